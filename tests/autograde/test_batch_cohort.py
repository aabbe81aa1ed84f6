"""Batches on a real course copy: one autograde at a time, unknown --student, students not
on the roster, withdrawn submissions and --prune. Real `grader` processes throughout."""
from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.autograde.lock import course_lock

ROOT = Path(__file__).resolve().parents[2]
GRADER = Path(sys.executable).parent / "grader"
MODULE = "01_tensor"
NOTEBOOK = "tensor_dev.ipynb"


@pytest.fixture
def course_root(tmp_path: Path) -> Path:
    for name in ("course", "source", "release"):
        shutil.copytree(ROOT / name, tmp_path / name)
    for student in ("alice", "bob", "erin"):
        shutil.copytree(ROOT / "submitted" / student / MODULE,
                        tmp_path / "submitted" / student / MODULE)
    # zed is not on course/roster.csv; he hands in the untouched release (0 points)
    zed = tmp_path / "submitted" / "zed" / MODULE
    zed.mkdir(parents=True)
    shutil.copy(ROOT / "release" / MODULE / NOTEBOOK, zed / NOTEBOOK)
    (zed / "timestamp.txt").write_text("2026-09-14 10:00:00.000000 UTC\n")
    return tmp_path


def grader(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(GRADER), "--course", str(root), *args], capture_output=True,
                          text=True, timeout=600)


def results(root: Path) -> dict[str, dict]:
    return {p.parent.parent.name: json.loads(p.read_text())
            for p in (root / "autograded").glob(f"*/{MODULE}/result.json")}


def status(root: Path) -> dict:
    proc = grader(root, "status", "--json")
    assert proc.returncode == 0, proc.stderr
    return {row["module"]: row for row in json.loads(proc.stdout)}[MODULE]


def test_unknown_student_is_a_usage_error(course_root):
    proc = grader(course_root, "autograde", MODULE, "--student", "zed", "--student", "quinn")
    assert proc.returncode == 2
    assert "unknown student 'quinn': not in course/roster.csv and no folder submitted/quinn/" \
        in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (course_root / "grader.db").exists() and not (course_root / "autograded").exists()


def test_a_second_run_waits_for_the_first_or_gives_up(course_root):
    with course_lock(course_root / "build"):
        refused = grader(course_root, "autograde", MODULE, "--no-wait")
        assert refused.returncode == 2, refused.stderr
        assert "another grader autograde is running on this course (pid" in refused.stderr
        assert "Traceback" not in refused.stderr
        assert not (course_root / "autograded").exists()
        waiting = subprocess.Popen([str(GRADER), "--course", str(course_root), "autograde", MODULE],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: list[str] = []

        def read() -> None:
            for line in waiting.stderr:
                lines.append(line)
        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        deadline = time.monotonic() + 120
        while not any("waiting for it to finish" in line for line in lines):
            assert waiting.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.1)
        assert "another grader autograde is running on this course (pid" in "".join(lines)
        time.sleep(1)
        assert waiting.poll() is None, "the second run did not wait"
        assert not (course_root / "autograded").exists()
    waiting.wait(timeout=600)
    reader.join(timeout=10)
    assert waiting.returncode == 0, "".join(lines)
    assert set(results(course_root)) == {"alice", "bob", "erin", "zed"}
    lock = course_root / "build" / "autograde.lock"
    assert lock.read_text().startswith(f"pid {waiting.pid}, `grader --course")


def test_two_runs_at_once_both_finish_cleanly(course_root):
    command = [str(GRADER), "--course", str(course_root), "autograde", MODULE]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)]
    outcomes = [run.communicate(timeout=600) for run in runs]
    for run, (_, errors) in zip(runs, outcomes):
        assert run.returncode == 0, errors
        assert "Traceback" not in errors
    assert sum("waiting for it to finish" in errors for _, errors in outcomes) == 1
    assert set(results(course_root)) == {"alice", "bob", "erin", "zed"}


def test_off_roster_students_and_withdrawn_submissions(course_root):
    proc = grader(course_root, "autograde", MODULE)
    assert proc.returncode == 0, proc.stderr
    assert "01_tensor: not on course/roster.csv (graded, left out of the mean): zed" in proc.stderr
    graded = results(course_root)
    assert graded["zed"]["status"] == "graded" and graded["zed"]["score"] == 0
    roster_mean = round(sum(graded[s]["score"] for s in ("alice", "bob", "erin")) / 3, 2)
    row = status(course_root)
    assert row["graded"] == 4 and row["off_roster"] == ["zed"] and row["withdrawn"] == []
    assert row["mean_score"] == roster_mean
    table = grader(course_root, "status").stdout
    assert "01_tensor: not on the roster (graded, left out of the mean): zed" in table

    # erin takes her submission back: her result is withdrawn, shown, counted nowhere
    shutil.rmtree(course_root / "submitted" / "erin")
    row = status(course_root)
    assert row["graded"] == 3 and row["withdrawn"] == ["erin"] and row["submitted"] == 3
    assert row["mean_score"] == round((graded["alice"]["score"] + graded["bob"]["score"]) / 2, 2)
    assert "01_tensor: withdrawn (graded, but the submission folder is gone" in \
        grader(course_root, "status").stdout
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(
        grader(course_root, "export", "--format", "csv").stdout))}
    assert rows["erin"][MODULE] == "" and rows["erin"]["withdrawn"] == MODULE
    assert rows["erin"]["total"] == "" and rows["alice"]["withdrawn"] == ""
    assert rows["zed"]["on_roster"] == "no"
    exported = {r["student"]: r for r in json.loads(
        grader(course_root, "export", "--format", "json").stdout)["results"]}
    assert exported["erin"]["withdrawn"] is True and exported["alice"]["withdrawn"] is False
    assert exported["zed"]["on_roster"] is False

    again = grader(course_root, "autograde", MODULE)
    assert again.returncode == 0, again.stderr
    assert "01_tensor: 1 result(s) whose submission folder is gone (withdrawn): erin" in again.stderr
    assert (course_root / "autograded" / "erin" / MODULE / "result.json").is_file()

    pruned = grader(course_root, "autograde", MODULE, "--prune")
    assert pruned.returncode == 0, pruned.stderr
    assert "01_tensor: removed 1 withdrawn result(s): erin" in pruned.stderr
    assert not (course_root / "autograded" / "erin").exists()
    assert not (course_root / "feedback" / "erin").exists()
    assert set(results(course_root)) == {"alice", "bob", "zed"}
    row = status(course_root)
    assert row["withdrawn"] == [] and row["graded"] == 3
    exported = json.loads(grader(course_root, "export", "--format", "json").stdout)["results"]
    assert "erin" not in {r["student"] for r in exported}
