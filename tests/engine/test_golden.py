"""The demo course's executed notebooks and feedback pages are byte-identical on the
plain-Python fast path and on IPython's full path, and equal to the stored golden
notebooks (refresh them with GRADER_UPDATE_GOLDEN=1 after a deliberate change). The
Training module prints random draws, so the course copy seeds them (policy.seed)."""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from grader.course import load_course
from grader.harness.grade import grade_submission
from grader.harness.session import engine_for, open_context
from grader.reports import render_feedback

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
MODULE = "09_training"
STUDENTS = ("alice", "bob", "carol")     # complete, partly wrong, untouched release


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("golden")
    for name in ("course", "source", "release", "submitted"):
        shutil.copytree(ROOT / name, root / name)
    toml = root / "course" / "course.toml"   # the Training module draws random numbers
    toml.write_text(toml.read_text().replace("[policy]\n", "[policy]\nseed = 0\n", 1))
    return load_course(root)


def graded(course, fast_path: bool) -> dict[str, tuple[str, str]]:
    with open_context(course, MODULE, timeout_s=30) as ctx:
        if not fast_path:
            ctx.engine.close()
            ctx.engine = engine_for(course, MODULE)
            ctx.engine.fast_path = False
        out = {}
        for student in STUDENTS:
            g = grade_submission(ctx, student, course.root / "submitted" / student / MODULE)
            result = dict(g.result.to_json(), duration_s=0.0)     # wall clock differs run to run
            out[student] = (nbformat.writes(g.executed), render_feedback(course, result))
        return out


def test_fast_and_full_paths_and_golden_notebooks_agree(course):
    fast, full = graded(course, True), graded(course, False)
    for student in STUDENTS:
        assert fast[student][0] == full[student][0], f"{student}: executed notebooks differ"
        assert fast[student][1] == full[student][1], f"{student}: feedback pages differ"
        golden = GOLDEN / f"{student}-{MODULE}.ipynb"
        if os.environ.get("GRADER_UPDATE_GOLDEN") == "1":
            golden.write_text(fast[student][0], encoding="utf-8")
        stored = json.loads(golden.read_text(encoding="utf-8"))
        assert json.loads(fast[student][0]) == stored, f"{student}: differs from {golden.name}"
