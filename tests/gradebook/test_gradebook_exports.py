"""`grader export --format csv|json` and `grader status` through the real console script."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

from grader.course import load_course
from grader.gradebook import open_gradebook
from grader.gradebook.exports import export_grades
from grader.gradebook.status import status_rows
from support.training_samples import MODULE, class_results, training_result

GRADER = Path(sys.executable).parent / "grader"


def grader(course_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GRADER), "--course", str(course_dir), *args],
                          capture_output=True, text=True, timeout=120)


def fill(course_dir: Path, url: str | None = None) -> list[dict]:
    records = class_results()
    course = load_course(course_dir)
    with open_gradebook(url or course.db_url) as gradebook:
        for record in records:
            gradebook.record(record)
    return records


def test_csv_export_to_stdout_is_only_the_data(course_dir: Path) -> None:
    fill(course_dir)
    run = grader(course_dir, "export", "--format", "csv")
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    header = run.stdout.splitlines()[0].split(",")
    course = load_course(course_dir)
    assert header == ["student", "name", "email", "on_roster", *[m.id for m in course.modules],
                      "total", "needs_manual_grading", "withdrawn", "extensions"]
    by_id = {row["student"]: row for row in rows}
    assert [row["student"] for row in rows] == ["alice", "bob", "carol", "dave", "mallory"]
    assert by_id["alice"][MODULE] == "40" and by_id["alice"]["total"] == "40"
    assert by_id["bob"][MODULE] == "16.67"
    assert by_id["carol"][MODULE] == "32"                 # after the late penalty
    # on the roster, nothing submitted: empty cells, not zeros
    assert by_id["dave"]["on_roster"] == "yes"
    assert all(by_id["dave"][m.id] == "" for m in course.modules) and by_id["dave"]["total"] == ""
    assert by_id["dave"]["name"] == "Dave Diaz" and by_id["dave"]["email"] == "dave@example.edu"
    # submitted without being on the roster: kept, and flagged
    assert by_id["mallory"]["on_roster"] == "no" and by_id["mallory"][MODULE] == "35"
    assert all(row["withdrawn"] == "" for row in rows)    # every submission folder is there
    assert by_id["alice"]["01_tensor"] == ""


def test_json_export_equals_the_stored_records(course_dir: Path, tmp_path: Path) -> None:
    records = fill(course_dir)
    run = grader(course_dir, "export", "--format", "json")
    assert run.returncode == 0, run.stderr
    document = json.loads(run.stdout)                     # stdout is exactly one JSON document
    assert document["course"] == "tinytorch"
    flags = {r["student"]: (r.pop("on_roster"), r.pop("withdrawn")) for r in document["results"]}
    assert flags == {"alice": (True, False), "bob": (True, False), "carol": (True, False),
                     "mallory": (False, False)}
    assert document["results"] == sorted(records, key=lambda r: r["student"])
    with open_gradebook(load_course(course_dir).db_url) as gradebook:
        assert document["results"] == gradebook.records()
    document = json.loads(run.stdout)
    # --output writes the file and keeps stdout empty
    target = tmp_path / "out" / "grades.json"
    run = grader(course_dir, "export", "--format", "json", "--output", str(target))
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert json.loads(target.read_text()) == document


def test_export_with_db_option_reads_that_database(course_dir: Path, tmp_path: Path) -> None:
    other = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    with open_gradebook(other) as gradebook:
        gradebook.record(training_result("erin", "partial"))
    run = grader(course_dir, "export", "--format", "csv", "--db", other)
    assert run.returncode == 0, run.stderr
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(run.stdout))}
    # erin has a result but no folder under submitted/: withdrawn, her score is not exported
    assert rows["erin"]["on_roster"] == "no" and rows["erin"][MODULE] == ""
    assert rows["erin"]["withdrawn"] == MODULE and rows["erin"]["total"] == ""
    assert rows["alice"][MODULE] == ""
    # the in-process entry point writes files too
    out = tmp_path / "grades.csv"
    export_grades(load_course(course_dir), fmt="csv", output=out, db_url=other)
    assert out.read_text().splitlines()[0].startswith("student,name,email,on_roster,01_tensor")


def test_status_rows_and_command(course_dir: Path) -> None:
    fill(course_dir)
    failed = training_result("dave", "error")
    course = load_course(course_dir)
    with open_gradebook(course.db_url) as gradebook:
        gradebook.record(failed)
        rows = {row.module: row for row in status_rows(course, gradebook)}
    training = rows[MODULE]
    assert training.submitted == 4                        # folders under submitted/*/09_training
    assert training.graded == 4                           # dave's folder is gone: withdrawn
    assert training.withdrawn == ("dave",)
    assert training.off_roster == ("mallory",)
    assert training.late == 1                             # carol
    assert training.failed == 1                           # mallory crashed (dave is withdrawn)
    assert training.mean_score == round((40 + 16.67 + 32) / 3, 2)   # roster students only
    assert training.max_score == 40.0
    assert rows["01_tensor"].graded == 0 and rows["01_tensor"].mean_score is None

    run = grader(course_dir, "status", "--json")
    assert run.returncode == 0, run.stderr
    data = {row["module"]: row for row in json.loads(run.stdout)}
    assert data[MODULE]["failed"] == 1 and data[MODULE]["late"] == 1
    assert data[MODULE]["withdrawn"] == ["dave"] and data[MODULE]["off_roster"] == ["mallory"]
    table = grader(course_dir, "status")
    assert table.returncode == 0, table.stderr
    line = next(line for line in table.stdout.splitlines() if "09_training" in line)
    assert "29.56 / 40" in line                           # mean of alice, bob and carol
    assert "09_training: not on the roster (graded, left out of the mean): mallory" in table.stdout
    assert "09_training: withdrawn (graded, but the submission folder is gone" in table.stdout
