"""Writing small course sources in the demo's authoring format (jupytext percent .py with
nbgrader metadata), for the tests that build their own tiny courses."""
from __future__ import annotations

JUPYTEXT_HEADER = '''\
# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.17.1
# ---
'''


def meta(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
         points: int | None = None) -> str:
    """The nbgrader={...} cell metadata, in the key order jupytext writes."""
    pts = f'"points": {points}, ' if points is not None else ""
    return ('nbgrader={"grade": %s, "grade_id": "%s", "locked": %s, %s"schema_version": 3, '
            '"solution": %s, "task": false}' % (str(grade).lower(), grade_id, str(locked).lower(),
                                                 pts, str(solution).lower()))
