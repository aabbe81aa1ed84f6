"""What a cell's nbgrader metadata means: the one place for these rules (like nbgrader's
`utils.py`).

Each predicate takes the cell's `nbgrader` metadata dict (`cell.metadata["nbgrader"]`,
or {} for a cell without it) and, where the answer depends on it, the cell type. A
missing key reads as false, as in nbgrader. `grader lint` passes only the keys whose
value is exactly `true` (`strict_flags`): it reports any other value as a problem of its
own and must not read `"grade": "yes"` as a graded cell.

One difference from nbgrader on purpose: nbgrader's `is_locked` also calls every graded
non-solution cell locked; here `is_locked` is the `locked` key alone and
`is_protected` is the rule the harness applies (locked, or a graded test code cell).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Meta = Mapping[str, Any]


def nbgrader_metadata(cell: Mapping[str, Any]) -> dict[str, Any]:
    """The `nbgrader` metadata of a notebook cell (a dict or NotebookNode); {} if none."""
    return dict((cell.get("metadata") or {}).get("nbgrader") or {})


def strict_flags(meta: Meta | None) -> dict[str, bool]:
    """Only the keys whose value is exactly `true` (lint's reading of the metadata)."""
    return {key: True for key, value in (meta or {}).items() if value is True}


def is_grade(meta: Meta) -> bool:
    """The cell is graded (it has points)."""
    return bool(meta.get("grade"))


def is_solution(meta: Meta) -> bool:
    """The student writes in this cell."""
    return bool(meta.get("solution"))


def is_locked(meta: Meta) -> bool:
    """The `locked` key (see is_protected for what the harness restores)."""
    return bool(meta.get("locked"))


def is_task(meta: Meta) -> bool:
    """A task cell: a markdown description of work graded by hand."""
    return bool(meta.get("task"))


def is_test(meta: Meta, cell_type: str) -> bool:
    """A test item: a graded code cell that is not a solution (`grade: true, solution: false`)."""
    return cell_type == "code" and is_grade(meta) and not is_solution(meta)


def is_protected(meta: Meta, cell_type: str) -> bool:
    """A cell whose text always comes from the source: locked, or a graded test cell."""
    return is_locked(meta) or is_test(meta, cell_type)
