"""The dashboard's module mean counts the class only: a student not on the roster and a
withdrawn result are listed but left out of the mean, as in `grader status`."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from grader.course import load_course
from grader.reports.dashboard import _module_summaries
from grader.result import Result


def record(student: str, score: float) -> Result:
    return Result(student=student, module="09_training", notebook="training_dev.ipynb",
                  status="graded", score=score, max_score=40.0)


def test_off_roster_and_withdrawn_results_stay_out_of_the_mean(tmp_path) -> None:
    root = tmp_path / "course"
    shutil.copytree(Path(__file__).resolve().parents[2] / "course", root / "course")
    (root / "course" / "roster.csv").write_text("id,name,email\nalice,A,a@x\nbob,B,b@x\n")
    for student in ("alice", "visitor"):
        (root / "submitted" / student / "09_training").mkdir(parents=True)
    course = load_course(root)
    records = [record("alice", 40.0), record("bob", 0.0),        # bob's folder is gone
               record("visitor", 10.0)]                          # not on the roster
    training = next(m for m in _module_summaries(course, records) if m.id == "09_training")
    assert training.n == 3
    assert training.mean_score == 40.0, json.dumps(training.mean_score)
