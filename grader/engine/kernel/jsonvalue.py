"""Convert a graded function's return value to plain JSON data (runs in the sandbox)."""
from __future__ import annotations

import sys
from typing import Any

MAX_DEPTH = 100


class NotJsonable(ValueError):
    """The value has a type that has no JSON form."""


def to_json(value: Any, _depth: int = 0) -> Any:
    """numpy scalars -> int/float/bool, arrays and tuples -> lists, dict keys -> str.

    NaN and infinities stay floats (the JSON text carries them as NaN/Infinity).
    """
    if _depth > MAX_DEPTH:
        raise NotJsonable("value is nested too deeply (or contains itself)")
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    np = sys.modules.get("numpy")
    if np is not None:
        if isinstance(value, np.ndarray):
            return to_json(value.tolist(), _depth + 1)
        if isinstance(value, np.generic):
            item = value.item()
            if isinstance(item, complex):
                raise NotJsonable(f"complex number {value!r} has no JSON form")
            if isinstance(item, bytes):
                raise NotJsonable("numpy bytes value has no JSON form")
            return to_json(item, _depth + 1)
    if isinstance(value, (list, tuple)):
        return [to_json(v, _depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, complex):
        raise NotJsonable(f"complex number {value!r} has no JSON form")
    if np is not None and hasattr(value, "__array__"):
        return to_json(np.asarray(value).tolist(), _depth + 1)
    raise NotJsonable(f"a value of type {type(value).__name__} cannot be converted to JSON")


