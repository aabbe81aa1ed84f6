"""Which results count in class statistics, and which are withdrawn.

A student not on course/roster.csv (a test account, someone who dropped, a typo in a
folder name) is graded and exported like anyone, flagged `on_roster: no`, and left out
of module means. A result whose submitted/STUDENT/MODULE folder is gone is
`withdrawn`: reported as such by `grader status` and the exports, counted nowhere,
and removed by `grader autograde MODULE --prune`. Without a roster everyone counts;
without a submitted/ folder (results copied from elsewhere) nothing is withdrawn.
"""
from __future__ import annotations

from grader.course import Course
from grader.result import Result


def roster_ids(course: Course) -> frozenset[str]:
    return frozenset(student.id for student in course.roster())


def on_roster(roster: frozenset[str], student: str) -> bool:
    """True for a student on the roster, and for everyone when there is no roster."""
    return not roster or student in roster


def is_withdrawn(course: Course, result: Result) -> bool:
    """The result's submission folder is gone (while submitted/ itself is there)."""
    return submission_gone(course, result.student, result.module)


def submission_gone(course: Course, student: str, module: str) -> bool:
    """submitted/STUDENT/MODULE is gone while submitted/ itself is there."""
    return course.submitted_dir.is_dir() and not (course.submitted_dir / student / module).is_dir()


def counts(course: Course, roster: frozenset[str], student: str, module: str) -> bool:
    """The student's result on the module counts in means: on the roster, not withdrawn."""
    return on_roster(roster, student) and not submission_gone(course, student, module)
