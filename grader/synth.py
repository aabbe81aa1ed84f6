"""Build submissions from a module's release by editing cells, the way a student would.

Used by the demo (scripts/make_demo_submissions.py), the tests and the benchmark, so
that every submission we grade is derived from the real source and release rather
than hand-written JSON.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from grader.course import Course
from grader.module import Module, load_module
from grader.release import build_release

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"     # nbgrader's timestamp.txt


def release_of(course: Course, module_id: str) -> tuple[Module, NotebookNode]:
    module = load_module(course.root, module_id)
    path = course.release_dir / module_id / module.notebook_name
    nb = nbformat.read(path, as_version=4) if path.is_file() else build_release(course, module)
    return module, nb


def cell(nb: NotebookNode, grade_id: str) -> NotebookNode:
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return c
    raise KeyError(f"no cell with grade_id {grade_id!r}")


def solved(module: Module, release: NotebookNode) -> NotebookNode:
    """The release with every solution cell answered as the source answers it."""
    nb = copy.deepcopy(release)
    answers = {c.grade_id: c.source for c in module.source.cells
               if c.grade_id and c.nbgrader.get("solution")}
    for c in nb.cells:
        grade_id = c.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            c.source = answers[grade_id]
    return nb


def edit(nb: NotebookNode, grade_id: str, change: Callable[[str], str]) -> NotebookNode:
    """A copy of nb with one cell's text changed; `change` must change something."""
    nb = copy.deepcopy(nb)
    target = cell(nb, grade_id)
    new = change(target.source)
    if new == target.source:
        raise ValueError(f"the edit of {grade_id!r} changed nothing")
    target.source = new
    return nb


def replace(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def change(text: str) -> str:
        if old not in text:
            raise ValueError(f"{old!r} not found in the cell")
        return text.replace(old, new, count)
    return change


def delete(nb: NotebookNode, grade_id: str) -> NotebookNode:
    nb = copy.deepcopy(nb)
    nb.cells = [c for c in nb.cells
                if c.metadata.get("nbgrader", {}).get("grade_id") != grade_id]
    return nb


def append_code(nb: NotebookNode, source: str, *, after: str | None = None) -> NotebookNode:
    """Add a student cell at the end, or after the cell with grade_id `after`."""
    nb = copy.deepcopy(nb)
    new = nbformat.v4.new_code_cell(source)
    if after is None:
        nb.cells.append(new)
    else:
        nb.cells.insert(nb.cells.index(cell(nb, after)) + 1, new)
    return nb


def write_submission(root: Path, student: str, module_id: str, nb: NotebookNode | str | bytes,
                     *, name: str, submitted_at: datetime | None = None) -> Path:
    """Write submitted/STUDENT/MODULE/NAME (+ timestamp.txt); bytes/str are written as is."""
    folder = root / "submitted" / student / module_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(nb, bytes):
        path.write_bytes(nb)
    elif isinstance(nb, str):
        path.write_text(nb, encoding="utf-8")
    else:
        nbformat.write(nb, path)
    if submitted_at is not None:
        stamp = submitted_at.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)
        (folder / "timestamp.txt").write_text(stamp + "\n", encoding="utf-8")
    return path
