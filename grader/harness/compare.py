"""Compare an assessment answer with the reference (DESIGN.md, graded items 2).

Ints and bools exactly, floats with math.isclose, strings trimmed and case-folded,
lists and nested dicts element by element. Values are already JSON-safe (the engine
converted numpy scalars and arrays).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from grader.course import Tolerance
from grader.result import Field


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def equal(got: Any, expected: Any, tol: Tolerance) -> bool:
    if isinstance(expected, bool) or isinstance(got, bool):
        return isinstance(got, bool) and isinstance(expected, bool) and got is expected
    if isinstance(expected, int) and _is_number(got):
        return got == expected
    if isinstance(expected, float) and _is_number(got):
        if math.isnan(expected) or math.isnan(got):
            return math.isnan(expected) and math.isnan(got)
        return math.isclose(got, expected, rel_tol=tol.rel_tol, abs_tol=tol.abs_tol)
    if isinstance(expected, str) and isinstance(got, str):
        return got.strip().casefold() == expected.strip().casefold()
    if isinstance(expected, list) and isinstance(got, list):
        return len(got) == len(expected) and all(equal(g, e, tol) for g, e in zip(got, expected))
    if isinstance(expected, dict) and isinstance(got, dict):
        return set(got) == set(expected) and all(equal(got[k], expected[k], tol) for k in expected)
    return got is None and expected is None


@dataclass
class Comparison:
    fraction: float        # share of the points earned
    fields: list[Field]
    message: str


def type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if _is_number(value):
        return "number"
    return {str: "str", list: "list", dict: "dict", type(None): "null"}.get(type(value), "other")


def compare(got: Any, expected: Any, tol: Tolerance, volatile: frozenset[str] = frozenset()
            ) -> Comparison:
    if not isinstance(expected, dict):
        ok = equal(got, expected, tol)
        return Comparison(1.0 if ok else 0.0, [Field("(value)", expected, got, ok)],
                          "correct" if ok else "the returned value does not match")
    if not isinstance(got, dict):
        keys = ", ".join(expected)
        what = "None" if got is None else f"a {type_name(got)}"
        return Comparison(0.0, [Field(k, v, None, False, missing=True) for k, v in expected.items()],
                          f"returned {what}; expected a dict with keys {keys}")
    fields = []
    for key, ref in expected.items():
        if key in volatile:
            fields.append(Field(key, ref, got.get(key), None, volatile=True,
                                missing=key not in got))
        elif key not in got:
            fields.append(Field(key, ref, None, False, missing=True))
        else:
            fields.append(Field(key, ref, got[key], equal(got[key], ref, tol)))
    scored = [f for f in fields if f.ok is not None]
    right = sum(1 for f in scored if f.ok)
    fraction = right / len(scored) if scored else 0.0
    if tol.all_or_nothing and fraction < 1.0:
        fraction = 0.0
    missing = [f.key for f in scored if f.missing]
    wrong = [f.key for f in scored if not f.missing and not f.ok]
    parts = [f"{right} of {len(scored)} values match"]
    if missing:
        parts.append(f"missing keys: {', '.join(missing)}")
    if wrong:
        parts.append(f"check: {', '.join(wrong)}")
    return Comparison(fraction, fields, "; ".join(parts))


def shape_of(value: Any) -> dict:
    """What a student may know of a reference answer: its type and keys, no values."""
    if isinstance(value, dict):
        return {"type": "dict", "keys": {k: type_name(v) for k, v in value.items()}}
    return {"type": type_name(value)}


def shape_problems(got: Any, shape: dict) -> list[str]:
    """Why an answer does not have the expected shape (empty: it does)."""
    if shape.get("type") != "dict":
        want = shape.get("type")
        return [] if type_name(got) == want else [f"expected a {want}, got a {type_name(got)}"]
    if not isinstance(got, dict):
        return [f"expected a dict with keys {', '.join(shape['keys'])}, got a {type_name(got)}"]
    problems = []
    for key, want in shape["keys"].items():
        if key not in got:
            problems.append(f"missing key {key!r}")
        elif type_name(got[key]) != want:
            problems.append(f"{key!r} should be a {want}, got a {type_name(got[key])}")
    return problems
