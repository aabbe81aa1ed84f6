"""Manual grades: `grader manual export|import` (CSV, all-or-nothing with FILE:LINE
errors, range-checked), kept across re-grading unless the answer changed, and shown in
result.json, exports, status and feedback."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from support.nbgrader_example import copy_example, write_course_toml
from grader.course import load_course
from grader.gradebook.exports import render_csv
from grader.gradebook.status import status_rows
from grader.gradebook.store import open_gradebook

GRADER = Path(sys.executable).parent / "grader"


def grader(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(GRADER), "--course", str(root), *args], capture_output=True,
                          text=True, timeout=300)


def result_of(root: Path, student: str) -> dict:
    return json.loads((root / "autograded" / student / "ps1" / "result.json").read_text())


def item(result: dict, item_id: str) -> dict:
    return next(i for i in result["items"] if i["id"] == item_id)


@pytest.fixture(scope="module")
def course_root(tmp_path_factory) -> Path:
    root = copy_example(tmp_path_factory.mktemp("manual"))
    write_course_toml(root)
    assert grader(root, "autograde", "ps1", "--workers", "1").returncode == 0
    return root


def test_export_lists_what_needs_grading(course_root):
    done = grader(course_root, "manual", "export", "ps1")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert list(rows[0]) == ["student", "assignment", "notebook", "item", "score", "comment"]
    assert {(r["student"], r["notebook"], r["item"]) for r in rows} == {
        ("bitdiddle", "problem1.ipynb", "sum_of_squares_equation"),
        ("bitdiddle", "problem1.ipynb", "cell-938593c4a215c6cc"),
        ("bitdiddle", "problem2.ipynb", "part-a"), ("bitdiddle", "problem2.ipynb", "part-b"),
        ("hacker", "problem1.ipynb", "sum_of_squares_equation"),
        ("hacker", "problem1.ipynb", "sum_of_squares_application"),
        ("hacker", "problem1.ipynb", "cell-938593c4a215c6cc"),
        ("hacker", "problem2.ipynb", "part-a"), ("hacker", "problem2.ipynb", "part-b")}
    assert all(r["score"] == "" for r in rows)


def test_bad_rows_are_file_line_errors_and_nothing_is_imported(course_root, tmp_path):
    path = tmp_path / "grades.csv"
    path.write_text("student,assignment,notebook,item,score,comment\n"
                    "hacker,ps1,problem1.ipynb,sum_of_squares_equation,1,fine\n"
                    "hacker,ps1,problem2.ipynb,part-b,3,too much\n"           # points: 2
                    "hacker,ps1,problem2.ipynb,no-such-item,1,\n"
                    "nobody,ps1,problem2.ipynb,part-a,1,\n"
                    "hacker,ps1,problem1.ipynb,correct_squares,0.5,\n"        # autograded, no reason
                    "hacker,ps1,problem2.ipynb,part-a,one,\n", encoding="utf-8")
    done = grader(course_root, "manual", "import", str(path))
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.startswith(str(path))]
    assert [line.split(":")[1] for line in lines] == ["3", "4", "5", "6", "7"]
    assert "out of range" in lines[0] and "0 to 2" in lines[0]
    assert "no item 'no-such-item'" in lines[1] and "no graded submission of nobody" in lines[2]
    assert "needs a reason" in lines[3] and "not a number" in lines[4]
    assert "nothing imported" in done.stderr
    assert item(result_of(course_root, "hacker"), "sum_of_squares_equation")["status"] == "manual"


def test_import_then_regrade_keeps_grades_unless_the_answer_changed(course_root, tmp_path):
    path = tmp_path / "grades.csv"
    path.write_text("student,assignment,notebook,item,score,comment\n"
                    "hacker,ps1,problem1.ipynb,sum_of_squares_equation,1,right\n"
                    "hacker,ps1,problem1.ipynb,sum_of_squares_application,2,\n"
                    "hacker,ps1,problem1.ipynb,cell-938593c4a215c6cc,3.5,one slip\n"
                    "hacker,ps1,problem2.ipynb,part-a,1,\n"
                    "hacker,ps1,problem2.ipynb,part-b,1.5,why recursion?\n"
                    "hacker,ps1,problem1.ipynb,correct_squares,0.5,hard-coded answers\n"
                    "bitdiddle,ps1,problem2.ipynb,part-a,,\n", encoding="utf-8")
    done = grader(course_root, "manual", "import", str(path))
    assert done.returncode == 0, done.stderr
    hacker = result_of(course_root, "hacker")
    assert hacker["score"] == 3.0 - 0.5 + 1 + 2 + 3.5 + 1 + 1.5
    assert [n["score"] for n in hacker["notebooks"]] == [9.0, 2.5]
    assert item(hacker, "part-b")["manual"]["comment"] == "why recursion?"
    assert item(hacker, "correct_squares")["auto"]["score"] == 1.0
    course = load_course(course_root)
    with open_gradebook(course.db_url) as gradebook:
        row = {r["student"]: r for r in csv.DictReader(io.StringIO(render_csv(course, gradebook)))}
        assert row["hacker"]["ps1"] == "11.5" and row["hacker"]["needs_manual_grading"] == "0"
        assert status_rows(course, gradebook)[0].needs_manual == 4        # bitdiddle's
    feedback = (course_root / "feedback" / "hacker" / "ps1" / "ps1.html").read_text()
    assert "why recursion?" in feedback
    # re-grading keeps every manual grade ...
    assert grader(course_root, "autograde", "ps1", "--force", "--workers", "1").returncode == 0
    assert result_of(course_root, "hacker")["score"] == 11.5
    # ... unless the answer changed: then it waits again, the old score still shown
    notebook = course_root / "submitted" / "hacker" / "ps1" / "problem2.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "part-b")
    cell.source += "\n\nIt also memoizes nothing, so it is slow."
    nbformat.write(nb, notebook)
    assert grader(course_root, "autograde", "ps1", "--workers", "1").returncode == 0
    hacker = result_of(course_root, "hacker")
    part_b = item(hacker, "part-b")
    assert part_b["status"] == "manual" and part_b["manual"]["stale"] is True
    assert part_b["manual"]["score"] == 1.5 and "grade it again" in part_b["message"]
    assert hacker["score"] == 11.5 - 1.5
    assert item(hacker, "part-a")["score"] == 1.0        # its answer did not change
