"""`grader init --from-nbgrader DIR`: course.toml and roster from an nbgrader course
(assignments from source/, due dates and students from gradebook.db), nothing of
nbgrader's touched."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tomllib
from datetime import datetime
from pathlib import Path

from support.nbgrader_example import copy_example
from grader.course import load_course

GRADER = Path(sys.executable).parent / "grader"


def snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "course" not in p.parts[-2:-1]}


def test_init_reads_assignments_due_dates_and_students(tmp_path, monkeypatch):
    from nbgrader.api import Gradebook
    # nbgrader runs `alembic` (its database migrations) by name
    monkeypatch.setenv("PATH", f"{GRADER.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    root = copy_example(tmp_path / "class")
    (root / "source" / "ps0").mkdir()           # an empty assignment folder is not one
    (root / "source" / "header.ipynb").write_text("{}")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        gradebook.add_assignment("ps1", duedate=datetime(2026, 3, 1, 17, 0))
        gradebook.add_student("bitdiddle", first_name="Ben", last_name="Bitdiddle",
                              email="ben@example.edu")
        gradebook.add_student("hacker", first_name="Alyssa", last_name="Hacker")
    before = snapshot(root)
    done = subprocess.run([str(GRADER), "init", "--from-nbgrader", str(root)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert snapshot(root) == before                       # nbgrader's files untouched
    config = tomllib.loads((root / "course" / "course.toml").read_text())
    assert [m["id"] for m in config["modules"]] == ["ps1"]
    assert config["modules"][0]["due"] == "2026-03-01T17:00:00Z"
    course = load_course(root)
    assert [(s.id, s.name, s.email) for s in course.roster()] == [
        ("bitdiddle", "Ben Bitdiddle", "ben@example.edu"), ("hacker", "Alyssa Hacker", "")]
    assert course.module("ps1").due.isoformat() == "2026-03-01T17:00:00+00:00"
    again = subprocess.run([str(GRADER), "init", "--from-nbgrader", str(root)],
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 2 and "exists already" in again.stderr


def test_init_without_a_gradebook_takes_students_from_submitted(tmp_path):
    root = copy_example(tmp_path / "class")
    done = subprocess.run([str(GRADER), "init", "--from-nbgrader", str(root)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    course = load_course(root)
    assert [s.id for s in course.roster()] == ["bitdiddle", "hacker"]
    assert course.module("ps1").due is None
    assert not (root / "gradebook.db").exists()
