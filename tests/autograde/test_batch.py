"""Batch autograding through the real console script: bad submissions, re-runs,
an interrupted batch resumed, the late policy, and outputs that agree."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import nbformat
import pytest

from grader.course import load_course
from grader.synth import edit, release_of, replace, solved, write_submission

ROOT = Path(__file__).resolve().parents[2]
GRADER = Path(sys.executable).parent / "grader"
MODULE = "09_training"


def grader(course_root: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([str(GRADER), "--course", str(course_root), *args],
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def course_root(tmp_path: Path) -> Path:
    for name in ("course", "source", "release"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


def results(root: Path) -> dict[str, dict]:
    return {p.parent.parent.name: json.loads(p.read_text())
            for p in (root / "autograded").glob(f"*/{MODULE}/result.json")}


def test_bad_submissions_never_stop_the_batch(course_root):
    course = load_course(course_root)
    module, release = release_of(course, MODULE)
    due = course.module(MODULE).due
    complete = solved(module, release)
    name = module.notebook_name
    write_submission(course_root, "alice", MODULE, complete, name=name,
                     submitted_at=due - timedelta(hours=1))
    write_submission(course_root, "dave", MODULE, complete, name=name,
                     submitted_at=due + timedelta(days=1, hours=2))
    write_submission(course_root, "bob", MODULE, "{ this is not json", name=name)
    write_submission(course_root, "carol", MODULE, b"", name=name)
    (course_root / "submitted" / "erin" / MODULE).mkdir(parents=True)     # no notebook
    (course_root / "submitted" / "erin" / MODULE / "notes.txt").write_text("oops")
    write_submission(course_root, "frank", MODULE, complete, name="Training (final).ipynb")
    # What nbgrader's own release looks like: no grader metadata, its own cell ids.
    nbgrader_release = nbformat.from_dict(json.loads(json.dumps(release)))
    nbgrader_release.metadata.pop("grader")
    for index, cell in enumerate(nbgrader_release.cells):
        cell["id"] = f"nbgrader-{index:04x}"
    write_submission(course_root, "mallory", MODULE, nbgrader_release, name=name)

    proc = grader(course_root, "autograde", MODULE)
    assert proc.returncode == 0, proc.stderr
    got = results(course_root)
    assert set(got) == {"alice", "dave", "bob", "carol", "erin", "frank", "mallory"}
    assert got["alice"]["status"] == "graded" and got["alice"]["score"] == 40
    assert got["bob"]["status"] == "invalid" and got["bob"]["score"] == 0
    assert got["carol"]["status"] == "invalid" and "empty" in got["carol"]["items"][0]["message"]
    assert got["erin"]["status"] == "missing" and got["erin"]["score"] == 0
    assert got["frank"]["score"] == 40
    # frank sent no timestamp.txt: graded as on time, and the notice says so
    assert [n["kind"] for n in got["frank"]["notices"]] == ["renamed", "late"]
    assert got["frank"]["notices"][1]["message"].startswith("no timestamp.txt in the submission")
    assert got["frank"]["late_penalty"] == 0
    assert got["mallory"]["status"] == "graded" and got["mallory"]["score"] == 0
    # late policy: 1 day 2 hours late = 2 started days = 20% of 40, after 15 min grace
    dave = got["dave"]
    assert dave["late_penalty"] == pytest.approx(8.0)
    assert dave["score"] == pytest.approx(32.0)
    assert any(n["kind"] == "late" for n in dave["notices"])
    assert got["alice"]["late_penalty"] == 0
    # every graded submission has its executed notebook and feedback page
    for student in ("alice", "dave", "frank", "mallory"):
        notebook = course_root / "autograded" / student / MODULE / got[student]["notebook"]
        executed = nbformat.read(notebook, as_version=4)
        nbformat.validate(executed)
        assert notebook.read_text(encoding="utf-8") == nbformat.writes(executed)
        assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")
        stem = Path(got[student]["notebook"]).stem
        assert (course_root / "feedback" / student / MODULE / f"{stem}.html").is_file()

    # the gradebook and the JSON export agree with every result.json
    export = json.loads(grader(course_root, "export", "--format", "json").stdout)
    exported = {r["student"]: r for r in export["results"] if r["module"] == MODULE}
    db = sqlite3.connect(course_root / "grader.db")
    stored = dict(db.execute("select s.student_id, s.score from submissions s "
                             "where s.module_id = ?", (MODULE,)).fetchall()) \
        if _has_columns(db) else None
    for student, result in got.items():
        assert exported[student]["score"] == result["score"]
        assert exported[student]["status"] == result["status"]
        assert [i["score"] for i in exported[student]["items"]] == \
            [i["score"] for i in result["items"]]
        if stored is not None:
            assert stored[student] == pytest.approx(result["score"])
    csv = grader(course_root, "export", "--format", "csv").stdout
    assert csv.splitlines()[0].startswith("student,")
    assert "mallory" in csv


def _has_columns(db: sqlite3.Connection) -> bool:
    columns = {row[1] for row in db.execute("pragma table_info(submissions)")}
    return {"student_id", "module_id", "score"} <= columns


def test_rerun_skips_unchanged_and_regrades_changed(course_root):
    course = load_course(course_root)
    module, release = release_of(course, MODULE)
    complete = solved(module, release)
    for student in ("alice", "bob"):
        write_submission(course_root, student, MODULE, complete, name=module.notebook_name)
    assert grader(course_root, "autograde", MODULE).returncode == 0
    first = results(course_root)
    mtimes = {s: (course_root / "autograded" / s / MODULE / "result.json").stat().st_mtime_ns
              for s in first}

    again = grader(course_root, "autograde", MODULE)
    assert again.returncode == 0
    assert all((course_root / "autograded" / s / MODULE / "result.json").stat().st_mtime_ns
               == mtimes[s] for s in first)
    assert "│ 09_training │           2 │      0 │       2" in again.stderr.replace("  ", "  ") \
        or " 2 " in again.stderr

    wrong = edit(complete, "training-batch-size", replace(
        "activation_per_sample = 10 * 1000 * 4", "activation_per_sample = 10 * 1000 * 8"))
    write_submission(course_root, "bob", MODULE, wrong, name=module.notebook_name)
    assert grader(course_root, "autograde", MODULE).returncode == 0
    after = results(course_root)
    assert (course_root / "autograded" / "alice" / MODULE / "result.json").stat().st_mtime_ns \
        == mtimes["alice"]
    assert after["bob"]["score"] < first["bob"]["score"]

    forced = grader(course_root, "autograde", MODULE, "--force")
    assert forced.returncode == 0
    assert (course_root / "autograded" / "alice" / MODULE / "result.json").stat().st_mtime_ns \
        != mtimes["alice"]


def test_killed_batch_loses_nothing_and_resumes(course_root):
    course = load_course(course_root)
    module, release = release_of(course, MODULE)
    slow = edit(solved(module, release), "training-convergence", replace(
        "    num_classes = 10\n", "    import time as _t\n    _t.sleep(0.5)\n    num_classes = 10\n"))
    students = [f"s{n:02d}" for n in range(12)]
    for student in students:
        write_submission(course_root, student, MODULE, slow, name=module.notebook_name)
    # warm the reference so the batch starts grading at once
    assert grader(course_root, "autograde", MODULE, "--student", "s00").returncode == 0
    proc = subprocess.Popen([str(GRADER), "--course", str(course_root), "autograde", MODULE,
                             "--workers", "1"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while len(results(course_root)) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = results(course_root)          # every result.json present is complete JSON
    assert 4 <= len(partial) < len(students)
    assert all(r["score"] == 40 for r in partial.values())
    from grader.gradebook import open_gradebook
    with open_gradebook(course.db_url) as gradebook:   # result.json comes after the row
        assert set(partial) <= {r.student for r in gradebook.results(MODULE)}

    resumed = grader(course_root, "autograde", MODULE)
    assert resumed.returncode == 0, resumed.stderr
    final = results(course_root)
    assert set(final) == set(students)
    assert all(r["score"] == 40 for r in final.values()), {
        s: (r["score"], [(i["id"], i["status"], i["message"][:200]) for i in r["items"]
                         if i["score"] < i["points"]], r["notices"])
        for s, r in final.items() if r["score"] != 40}
    for student, result in partial.items():        # graded ones were skipped, not redone
        assert final[student]["duration_s"] == result["duration_s"]
    export = json.loads(grader(course_root, "export", "--format", "json").stdout)
    assert sorted(r["student"] for r in export["results"]) == sorted(students)
