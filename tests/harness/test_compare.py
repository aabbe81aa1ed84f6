"""Answer comparison and volatility, on plain values (DESIGN.md, graded items 2)."""
from __future__ import annotations

import math

from grader.course import Tolerance
from grader.harness.compare import compare, equal, shape_of, shape_problems
from grader.harness.reference import volatile_keys

TOL = Tolerance()


def test_numbers_strings_lists_and_dicts():
    assert equal(3, 3, TOL) and equal(3.0, 3, TOL) and not equal(3.5, 3, TOL)
    assert equal(True, True, TOL) and not equal(1, True, TOL) and not equal(True, 1, TOL)
    assert equal(1.0004, 1.0, TOL) and not equal(1.01, 1.0, TOL)
    assert equal(math.nan, math.nan, TOL)
    assert equal("  CrossEntropy ", "crossentropy", TOL)
    assert equal([1, [2.0, "a"]], [1, [2.0, "A"]], TOL) and not equal([1, 2], [1, 2, 3], TOL)
    assert equal({"a": {"b": 1}}, {"a": {"b": 1}}, TOL) and not equal({"a": 1}, {"a": 1, "b": 2}, TOL)
    assert not equal("1", 1, TOL) and not equal(None, 0, TOL) and equal(None, None, TOL)


def test_dict_answers_earn_points_per_matching_key():
    ref = {"a": 1.0, "b": "x", "c": True}
    result = compare({"a": 1.0001, "b": "X", "c": False}, ref, TOL)
    assert result.fraction == 2 / 3 and "check: c" in result.message
    missing = compare({"a": 1.0}, ref, TOL)
    assert missing.fraction == 1 / 3 and "missing keys: b, c" in missing.message
    assert compare(None, ref, TOL).fraction == 0
    assert compare({"a": 1.0, "b": "x", "c": False}, ref,
                   Tolerance(all_or_nothing=True)).fraction == 0


def test_volatile_keys_are_not_scored():
    result = compare({"t": 5.0, "n": 3}, {"t": 1.0, "n": 3}, TOL, frozenset({"t"}))
    assert result.fraction == 1.0
    assert [f.ok for f in result.fields] == [None, True]


def test_volatility_is_any_change_between_two_reference_runs():
    assert volatile_keys({"t": 1700000000.0, "n": 3}, {"t": 1700000000.25, "n": 3}) == ["t"]
    assert volatile_keys({"x": 0.1 + 0.2}, {"x": 0.1 + 0.2}) == []
    assert volatile_keys(4, 5) == ["(value)"]


def test_shapes_tell_keys_and_types_only():
    shape = shape_of({"a": 1.5, "b": "x", "c": True, "d": 2})
    assert shape == {"type": "dict", "keys": {"a": "number", "b": "str", "c": "bool", "d": "number"}}
    assert shape_problems({"a": 2, "b": "y", "c": False, "d": 3.5}, shape) == []
    assert shape_problems({"a": "2", "c": False, "d": 1}, shape) == [
        "'a' should be a number, got a str", "missing key 'b'"]
