"""`grader --version`; read-only commands create nothing; grader's gradebook is grader.db
and an nbgrader gradebook.db beside it is never touched. Real CLI on a temp course copy."""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from contextlib import closing
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GRADER = Path(sys.executable).parent / "grader"


@pytest.fixture
def course_root(tmp_path: Path) -> Path:
    for name in ("course", "source", "release", "submitted"):
        shutil.copytree(ROOT / name, tmp_path / name)
    return tmp_path


def grader(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(GRADER), "--course", str(root), *args], capture_output=True,
                          text=True, timeout=300, cwd=root)


def snapshot(root: Path) -> dict[str, str]:
    """Every file and folder under root, with a digest of each file's bytes."""
    return {str(p.relative_to(root)): (hashlib.sha256(p.read_bytes()).hexdigest()
                                       if p.is_file() else "dir")
            for p in sorted(root.rglob("*"))}


def nbgrader_gradebook(root: Path) -> Path:
    """A stand-in for nbgrader's gradebook.db: a SQLite file with a table of nbgrader's."""
    path = root / "gradebook.db"
    with closing(sqlite3.connect(path)) as db:
        db.execute("create table assignment (id varchar(32) primary key, name varchar(128))")
        db.execute("insert into assignment values ('a1', '09_training')")
        db.commit()
    return path


def test_version():
    proc = subprocess.run([str(GRADER), "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert proc.stdout == f"grader {version('grader')}\n"


@pytest.mark.parametrize("args", [("status",), ("status", "--json"), ("export",),
                                  ("export", "--format", "csv"), ("export", "--format", "json")])
def test_read_only_commands_create_nothing(course_root, args):
    nbgrader_gradebook(course_root)
    before = snapshot(course_root)
    proc = grader(course_root, *args)
    assert proc.returncode == 0, proc.stderr
    assert snapshot(course_root) == before
    if args == ("status", "--json"):
        rows = {row["module"]: row for row in json.loads(proc.stdout)}
        assert rows["09_training"]["submitted"] == 5 and rows["09_training"]["graded"] == 0
    if args[-1] in ("csv", "export"):   # CSV is the default; export never builds anything
        assert proc.stdout.splitlines()[0].startswith("student,name,email,on_roster,01_tensor")


def test_autograde_writes_grader_db_and_leaves_nbgraders_gradebook_alone(course_root):
    theirs = nbgrader_gradebook(course_root)
    before = theirs.read_bytes()
    proc = grader(course_root, "autograde", "02_activations")   # no submissions: quick
    assert proc.returncode == 0, proc.stderr
    assert theirs.read_bytes() == before
    with closing(sqlite3.connect(theirs)) as db:
        tables = {name for (name,) in db.execute(
            "select name from sqlite_master where type = 'table'")}
    assert tables == {"assignment"}
    assert (course_root / "grader.db").is_file()
    with closing(sqlite3.connect(course_root / "grader.db")) as db:
        assert db.execute("select command from runs").fetchall() == [("autograde",)]
    # reading an existing gradebook changes nothing either (no WAL or journal files left)
    after_grading = snapshot(course_root)
    for args in (("status",), ("export", "--format", "json")):
        assert grader(course_root, *args).returncode == 0
        assert snapshot(course_root) == after_grading


def test_report_writes_only_its_pages(course_root):
    nbgrader_gradebook(course_root)
    before = snapshot(course_root)
    proc = grader(course_root, "report")
    assert proc.returncode == 0, proc.stderr
    added = {path for path in snapshot(course_root) if path not in before}
    assert added == {"reports", "reports/index.html"}       # no grader.db: nothing graded yet
    assert {k: v for k, v in snapshot(course_root).items() if k in before} == before


def test_a_partial_gradebook_is_an_error_not_an_empty_class(course_root):
    with closing(sqlite3.connect(course_root / "grader.db")) as db:
        db.execute("create table students (id varchar(200) primary key)")
        db.commit()
    before = snapshot(course_root)
    proc = grader(course_root, "status")
    assert proc.returncode == 2
    assert "lacks the table(s) item_results, items, modules, runs, submissions" in proc.stderr
    assert snapshot(course_root) == before
