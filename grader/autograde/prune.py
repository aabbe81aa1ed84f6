"""Results whose submission is gone: find them, and (`grader autograde --prune`) remove them.

A withdrawn result (grader/gradebook/cohort.py) keeps its grade until it is pruned:
its result.json and executed notebook under autograded/, its feedback page and its
gradebook row all go.
"""
from __future__ import annotations

import shutil

from grader.course import Course
from grader.gradebook.cohort import submission_gone
from grader.gradebook.store import Gradebook


def withdrawn_students(course: Course, module_id: str, gradebook: Gradebook | None) -> list[str]:
    """Students with a result on the module (gradebook or autograded/) but no submission."""
    have = {p.parent.parent.name for p in course.autograded_dir.glob(f"*/{module_id}/result.json")}
    if gradebook is not None:
        have |= {r.student for r in gradebook.results(module_id)}
    return sorted(s for s in have if submission_gone(course, s, module_id))


def prune(course: Course, module_id: str, gradebook: Gradebook | None) -> list[str]:
    """Remove every withdrawn result of the module; the students whose results went."""
    gone = withdrawn_students(course, module_id, gradebook)
    for student in gone:
        for top in (course.autograded_dir, course.feedback_dir):
            folder = top / student / module_id
            shutil.rmtree(folder, ignore_errors=True)
            try:
                folder.parent.rmdir()  # the student's folder, once it holds nothing else
            except OSError:
                pass
        if gradebook is not None:
            gradebook.remove(student, module_id)
    return gone
