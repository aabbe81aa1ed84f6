"""`grader export --format canvas` (Canvas's gradebook import CSV) and `--format lms --map`
(any LMS's layout), through the real console script."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from grader.course import load_course, load_roster
from grader.gradebook import open_gradebook
from support.training_samples import class_results, make_course

GRADER = Path(sys.executable).parent / "grader"

LMS_ROSTER = """id,name,email,sis_id,login_id,section,lms_id
alice,Alice Adams,alice@example.edu,S-1001,aadams,Section A,501
bob,"Brown, Bob",bob@example.edu,S-1002,bbrown,Section B,502
carol,Carol Chen,carol@example.edu,,cchen,Section A,
dave,Dave Diaz,dave@example.edu,S-1004,ddiaz,Section B,504
erin,Erin Eng,erin@example.edu,,,,
"""


def grader(course_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(GRADER), "--course", str(course_dir), *args],
                          capture_output=True, text=True, timeout=120)


def filled(tmp_path: Path) -> Path:
    root = make_course(tmp_path / "course-root", roster=LMS_ROSTER,
                       submitted=("alice", "bob", "carol", "mallory"))
    with open_gradebook(load_course(root).db_url) as gradebook:
        for record in class_results():
            gradebook.record(record)
    return root


def test_roster_reads_the_optional_lms_columns(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(LMS_ROSTER, encoding="utf-8")
    alice, bob, carol, *_ = load_roster(path)
    assert (alice.sis_id, alice.login_id, alice.section, alice.lms_id) == (
        "S-1001", "aadams", "Section A", "501")
    assert bob.name == "Brown, Bob" and carol.sis_id == "" and carol.login_id == "cchen"
    path.write_text("id,name,email\nzoe,Zoe,z@x\n", encoding="utf-8")
    assert load_roster(path)[0].sis_id == ""          # the columns stay optional


def test_canvas_export_has_canvas_header_and_rows(tmp_path: Path) -> None:
    root = filled(tmp_path)
    run = grader(root, "export", "--format", "canvas")
    assert run.returncode == 0, run.stderr
    # exactly what Canvas's gradebook import reads: identity columns, one column per
    # module with results (the title names the assignment), Points Possible, students
    assert run.stdout.splitlines() == [
        "Student,ID,SIS User ID,SIS Login ID,Section,Training",
        "Points Possible,,,,,40",
        "Alice Adams,501,S-1001,aadams,Section A,40",
        '"Brown, Bob",502,S-1002,bbrown,Section B,16.67',
        "Carol Chen,,,cchen,Section A,32",
        "Dave Diaz,504,S-1004,ddiaz,Section B,",
    ]
    # who could not be matched is said on stderr, never in the file
    assert "not in roster.csv, left out of the Canvas file: mallory" in run.stderr
    assert "Canvas cannot match them), left out: erin" in run.stderr


def test_lms_export_by_toml_and_csv_column_maps(tmp_path: Path) -> None:
    root = filled(tmp_path)
    moodle = tmp_path / "moodle.toml"
    moodle.write_text('points_row = "Max"\ndelimiter = ";"\n[columns]\n'
                      '"Username" = "login_id"\n"Email address" = "email"\n'
                      '"Training (Real)" = "module:09_training"\n"Course total" = "total"\n',
                      encoding="utf-8")
    run = grader(root, "export", "--format", "lms", "--map", str(moodle))
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "Username;Email address;Training (Real);Course total",
        "Max;;40;",
        "aadams;alice@example.edu;40;40",
        "bbrown;bob@example.edu;16.67;16.67",
        "cchen;carol@example.edu;32;32",
        "ddiaz;dave@example.edu;;",
        ";erin@example.edu;;",
    ]
    blackboard = tmp_path / "blackboard.csv"
    blackboard.write_text("column,source\nUsername,login_id\nName,name\n"
                          "Training |1234,module:09_training\n", encoding="utf-8")
    out = tmp_path / "bb.csv"
    run = grader(root, "export", "--format", "lms", "--map", str(blackboard), "--output", str(out))
    assert run.returncode == 0 and run.stdout == ""
    assert out.read_text().splitlines()[:3] == ["Username,Name,Training |1234",
                                                "aadams,Alice Adams,40",
                                                'bbrown,"Brown, Bob",16.67']


def test_bad_column_maps_name_file_and_line(tmp_path: Path) -> None:
    root = filled(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("column,source\nUsername,login_id\nGrade,module:99_nothing\n", encoding="utf-8")
    run = grader(root, "export", "--format", "lms", "--map", str(bad))
    assert run.returncode == 2 and run.stdout == ""
    assert f"{bad}:3: 'module:99_nothing' names no module" in run.stderr
    toml = tmp_path / "bad.toml"
    toml.write_text('[columns]\n"User" = "username"\n', encoding="utf-8")
    run = grader(root, "export", "--format", "lms", "--map", str(toml))
    assert run.returncode == 2 and f"{toml}:2: unknown source 'username'" in run.stderr
    run = grader(root, "export", "--format", "lms")
    assert run.returncode == 2 and "--format lms needs it" in run.stderr
