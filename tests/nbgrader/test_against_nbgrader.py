"""nbgrader's example course graded by `grader autograde` and by `nbgrader autograde`,
compared item by item: equal autograded scores, the same items left to manual
grading, the same maximum per notebook (problem1 10, problem2 3)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from support.nbgrader_example import NOTEBOOKS, STUDENTS, copy_example

BIN = Path(sys.executable).parent


def run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1",
                               # nbgrader runs `alembic` (its database migrations) by name
                               "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"})
    assert proc.returncode == 0, f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"


def nbgrader_verdicts(root: Path) -> tuple[dict, dict]:
    """(student, notebook, item) -> (auto_score or None, needs manual); notebook -> max."""
    if not shutil.which("nbgrader", path=str(BIN)):
        pytest.skip("nbgrader's command line is not installed beside this Python")
    run([str(BIN / "nbgrader"), "generate_assignment", "ps1", "--create", "--force"], root)
    run([str(BIN / "nbgrader"), "autograde", "ps1", "--create", "--force"], root)
    from nbgrader.api import Gradebook
    verdicts, maxima = {}, {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for notebook in gradebook.find_assignment("ps1").notebooks:
            maxima[notebook.name] = notebook.max_score
        for student in STUDENTS:
            for name in NOTEBOOKS:
                submission = gradebook.find_submission_notebook(name, "ps1", student)
                for grade in submission.grades:
                    verdicts[(student, name, grade.name)] = (grade.auto_score,
                                                             grade.needs_manual_grade)
    return verdicts, maxima


def grader_verdicts(root: Path) -> tuple[dict, dict]:
    run([str(BIN / "grader"), "init", "--from-nbgrader", str(root)], root)
    run([str(BIN / "grader"), "--course", str(root), "autograde", "ps1", "--workers", "1"], root)
    verdicts, maxima = {}, {}
    for student in STUDENTS:
        result = json.loads((root / "autograded" / student / "ps1" / "result.json").read_text())
        for part in result["notebooks"]:
            maxima[part["notebook"].removesuffix(".ipynb")] = part["max_score"]
        for item in result["items"]:
            manual = item["status"] == "manual"
            verdicts[(student, item["notebook"].removesuffix(".ipynb"), item["id"])] = (
                None if manual else item["score"], manual)
    return verdicts, maxima


def test_grader_and_nbgrader_agree_item_by_item(tmp_path):
    theirs, their_maxima = nbgrader_verdicts(copy_example(tmp_path / "nbgrader"))
    ours, our_maxima = grader_verdicts(copy_example(tmp_path / "grader"))
    assert our_maxima == their_maxima == {"problem1": 10.0, "problem2": 3.0}
    assert set(ours) == set(theirs)
    assert ours == theirs
    manual = sorted(k for k, (_, needs) in ours.items() if needs)
    assert len(manual) == 9 and ("bitdiddle", "problem1", "sum_of_squares_application") not in manual
