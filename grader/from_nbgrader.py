"""`grader init --from-nbgrader DIR`: make an nbgrader course a grader course.

Writes DIR/course/course.toml and DIR/course/roster.csv and nothing else: nbgrader's
files (source/, release/, submitted/, autograded/, feedback/, gradebook.db,
nbgrader_config.py) are only read, and nbgrader's gradebook.db is opened read-only.
The assignments are the folders of source/ that hold notebooks; their due dates and
the students come from gradebook.db when it is there (without one, the students are
the folders of submitted/). Cells keep nbgrader's meaning: no assessments are
declared, so every graded answer is graded by hand, as in nbgrader.
"""
from __future__ import annotations

import csv
import io
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from grader.course import COURSE_FILE, ROSTER_FILE
from grader.errors import ConfigError, SourceError
from grader.sources import find_module_sources

GRADEBOOK = "gradebook.db"


@dataclass
class NbgraderCourse:
    root: Path
    assignments: list[str]
    due: dict[str, datetime] = field(default_factory=dict)
    students: list[tuple[str, str, str, str]] = field(default_factory=list)  # id, first, last, email
    from_gradebook: bool = False


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_gradebook(path: Path) -> tuple[dict[str, datetime], list[tuple[str, str, str, str]]]:
    """Due dates and students from nbgrader's gradebook.db, opened read-only."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise ConfigError(f"cannot open nbgrader's gradebook: {exc}", path=path) from None
    try:
        due = {}
        for name, duedate in db.execute("SELECT name, duedate FROM assignment"):
            if duedate:
                moment = datetime.fromisoformat(str(duedate))
                # nbgrader stores due dates as naive UTC
                due[name] = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
        students = [tuple(str(v or "") for v in row) for row in db.execute(
            "SELECT id, first_name, last_name, email FROM student ORDER BY id")]
    except sqlite3.Error as exc:
        raise ConfigError(f"not an nbgrader gradebook: {exc}", path=path) from None
    finally:
        db.close()
    return due, students   # type: ignore[return-value]


def read_nbgrader_course(root: Path) -> NbgraderCourse:
    source = root / "source"
    if not source.is_dir():
        raise ConfigError(f"{root} is not an nbgrader course: it has no source/ folder")
    assignments = []
    for folder in sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            find_module_sources(folder)
        except SourceError:
            continue          # no notebook in it
        assignments.append(folder.name)
    if not assignments:
        raise ConfigError(f"{source} holds no assignment folder with notebooks")
    course = NbgraderCourse(root=root, assignments=assignments)
    if (root / GRADEBOOK).is_file():
        course.due, course.students = read_gradebook(root / GRADEBOOK)
        course.from_gradebook = True
    elif (root / "submitted").is_dir():
        course.students = [(p.name, "", "", "") for p in sorted((root / "submitted").iterdir())
                           if p.is_dir()]
    far = datetime.max.replace(tzinfo=timezone.utc)
    course.assignments.sort(key=lambda a: (course.due.get(a, far), a))
    return course


def course_toml(course: NbgraderCourse) -> str:
    lines = [f"# Made by `grader init --from-nbgrader` from {course.root}.",
             "# Cells keep nbgrader's meaning: graded test cells are autograded, graded answers",
             "# (code or markdown) and tasks are graded by hand (`grader formgrade`). To score a",
             "# graded answer function against the source's answer instead, declare it:",
             "# `assessments = [\"grade_id\", ...]` (or \"all\") in its [[modules]] table.",
             "[course]", f"id = {_toml_string(course.root.name)}",
             f"title = {_toml_string(course.root.name)}", 'timezone = "UTC"', ""]
    for name in course.assignments:
        lines += ["[[modules]]", f"id = {_toml_string(name)}", f"title = {_toml_string(name)}"]
        if name in course.due:
            lines.append(f'due = "{course.due[name].astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}"')
        lines.append("")
    return "\n".join(lines)


def roster_csv(course: NbgraderCourse) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["id", "first_name", "last_name", "email"])
    writer.writerows(course.students)
    return buffer.getvalue()


def init_from_nbgrader(root: Path, *, force: bool = False) -> list[Path]:
    """Write course/course.toml and course/roster.csv under `root`; the paths written."""
    root = root.resolve()
    course = read_nbgrader_course(root)
    targets = [root / COURSE_FILE, root / ROSTER_FILE]
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise ConfigError(f"{existing[0]} exists already (pass --force to replace it)")
    targets[0].parent.mkdir(parents=True, exist_ok=True)
    targets[0].write_text(course_toml(course), encoding="utf-8")
    targets[1].write_text(roster_csv(course), encoding="utf-8")
    return targets
