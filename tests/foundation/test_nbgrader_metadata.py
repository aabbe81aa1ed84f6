"""grader.nbgrader_metadata: what a cell's nbgrader metadata means, in one place."""
from __future__ import annotations

import nbformat
import pytest

from grader.nbgrader_metadata import (is_grade, is_locked, is_protected, is_solution, is_task,
                                      is_test, nbgrader_metadata, strict_flags)

TEST = {"grade": True, "solution": False, "locked": False, "points": 2}
ANSWER = {"grade": True, "solution": True, "locked": False}
LOCKED = {"grade": False, "solution": False, "locked": True}
TASK = {"grade": False, "solution": False, "locked": True, "task": True}


@pytest.mark.parametrize("meta, cell_type, test, protected", [
    (TEST, "code", True, True),
    (TEST, "markdown", False, False),      # a markdown cell is never a test
    (ANSWER, "code", False, False),
    ({**ANSWER, "locked": True}, "code", False, True),
    (LOCKED, "code", False, True),
    ({}, "code", False, False),
])
def test_test_and_protected_cells(meta, cell_type, test, protected):
    assert is_test(meta, cell_type) is test
    assert is_protected(meta, cell_type) is protected


def test_flags_read_missing_keys_as_false():
    assert (is_grade(TEST), is_solution(TEST), is_locked(TEST), is_task(TEST)) == (
        True, False, False, False)
    assert (is_grade({}), is_solution({}), is_locked({}), is_task({})) == (False,) * 4
    assert is_task(TASK) and is_locked(TASK)


def test_metadata_of_a_notebook_cell():
    cell = nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": dict(TEST)})
    assert nbgrader_metadata(cell) == TEST
    assert nbgrader_metadata(nbformat.v4.new_markdown_cell("hi")) == {}


def test_lint_reads_only_exact_true():
    sloppy = {"grade": "true", "solution": 0, "locked": True, "points": 1}
    assert strict_flags(sloppy) == {"locked": True}
    assert not is_test(strict_flags(sloppy), "code")
    assert is_test(sloppy, "code")            # nbgrader itself reads "true" as true
