"""nbgrader's cell checksum, computed without importing nbgrader.

Same algorithm as `nbgrader.utils.compute_checksum` (md5 of the source, the cell type,
the grade/solution/locked flags, the grade_id and the points). Importing nbgrader costs
about a second (its package imports its server extensions), most of `grader check`'s
start-up, for this one function. tests/foundation/test_checksum.py checks that both
agree on every cell of the demo course's releases.
"""
from __future__ import annotations

import hashlib
from typing import Any


def _flags(meta: dict[str, Any]) -> tuple[bool, bool, bool]:
    grade = meta.get("grade", False)
    solution = meta.get("solution", False)
    locked = False if solution else True if grade else meta.get("locked", False)
    return grade, solution, locked


def compute_checksum(cell: Any) -> str:
    meta = cell["metadata"]["nbgrader"]
    grade, solution, locked = _flags(meta)
    m = hashlib.md5()
    for part in (cell["source"], cell["cell_type"], str(grade), str(solution), str(locked),
                 meta["grade_id"]):
        m.update(part.encode("utf-8"))
    if grade:
        m.update(str(float(meta["points"])).encode("utf-8"))
    return m.hexdigest()
