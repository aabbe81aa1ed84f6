"""Find the submissions of a module (nbgrader layout: submitted/STUDENT/MODULE/) and
decide which need grading: a submission whose notebook, timestamp, source and
framework are unchanged since its result.json was written is skipped."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from grader.course import Course
from grader.harness.submitted_files import read_regular, regular_files
from grader.result import Result


@dataclass(frozen=True)
class Submission:
    student: str
    module: str
    folder: Path

    def result_path(self, course: Course) -> Path:
        return course.autograded_dir / self.student / self.module / "result.json"


def discover(course: Course, module_id: str, students: list[str] | None = None) -> list[Submission]:
    found = []
    if course.submitted_dir.is_dir():
        for student_dir in sorted(p for p in course.submitted_dir.iterdir() if p.is_dir()):
            folder = student_dir / module_id
            if folder.is_dir() and (not students or student_dir.name in students):
                found.append(Submission(student_dir.name, module_id, folder))
    return found


def folder_digest(folder: Path) -> str:
    """Hash of every file a grading run reads from the submission folder."""
    h = hashlib.sha256()
    for path in regular_files(folder):          # links are not followed
        h.update(str(path.relative_to(folder)).encode() + b"\0")
        h.update(hashlib.sha256(read_regular(path, limit=1 << 40)).digest())
    return h.hexdigest()


def is_up_to_date(course: Course, submission: Submission, source_digest: str) -> bool:
    path = submission.result_path(course)
    try:
        stored = Result.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False      # unreadable, or not a result this version writes: grade again
    return (stored.source_digest == source_digest
            and stored.folder_digest == folder_digest(submission.folder))
