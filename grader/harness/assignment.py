"""Assignments of one or more notebooks (nbgrader's layout: source/ASSIGNMENT/*.ipynb).

Each notebook is graded as a module of its own (its own merge, run, reference and
release) by `grade_submission`; this module finds each expected notebook in the
submission folder, grades them one after the other with one warm engine, and adds
them up into one result per assignment: the items (each naming its notebook), a
`notebooks` list with every notebook's status, score and maximum, and the total with
the late policy applied once, to the assignment. A one-notebook module (TinyTorch's
`*_dev.py`) gives the same record as `grade_submission` plus that list.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from nbformat import NotebookNode

from grader.course import Course
from grader.harness.grade import (Graded, digest_file, grade_submission, new_result,
                                  parse_notebook, score_late)
from grader.harness.plan import limits_of
from grader.harness.reference import Reference
from grader.harness.session import (GradingContext, _Borrowed, engine_for, open_context,
                                    reference_for)
from grader.module import Module, load_notebooks
from grader.release import release_for_grading
from grader.harness.submitted_files import linked_folder
from grader.result import Notice, NotebookSummary, Result

TIMESTAMP = "timestamp.txt"


@dataclass
class AssignmentGraded(Graded):
    executed_all: dict[str, NotebookNode] = field(default_factory=dict)  # file name -> notebook


@dataclass
class AssignmentContext:
    """One GradingContext per notebook, all sharing one engine."""
    contexts: list[GradingContext]

    @property
    def course(self) -> Course:
        return self.contexts[0].course

    @property
    def module(self) -> Module:
        return self.contexts[0].module

    @property
    def notebooks(self) -> list[Module]:
        return [ctx.module for ctx in self.contexts]

    def close(self) -> None:
        self.contexts[0].engine.close()

    def __enter__(self) -> "AssignmentContext":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def combined_digest(references: list[Reference]) -> str:
    """The source digest of an assignment: one notebook's own, else a hash of all."""
    if len(references) == 1:
        return references[0].digest
    return hashlib.sha256(":".join(r.digest for r in references).encode()).hexdigest()


def references_for(course: Course, module_id: str, *, isolation: str = "auto"
                   ) -> tuple[list[Module], list[Reference]]:
    """Every notebook of the module and its reference (cached; computed if stale)."""
    notebooks = load_notebooks(course.root, module_id, course=course)
    engine = None
    refs = []
    try:
        for module in notebooks:
            def borrow(module=module):
                nonlocal engine
                if engine is None:
                    engine = engine_for(course, module_id, isolation=isolation)
                    engine.start()
                return _Borrowed(engine)
            refs.append(reference_for(course, module, borrow))
    finally:
        if engine is not None:
            engine.close()
    return notebooks, refs


def handed_out(course: Course, module: Module, built: NotebookNode) -> NotebookNode:
    """What the students were given: nbgrader's own release on disk when there is one
    (release/MODULE/NOTEBOOK without grader's metadata: e.g. made with a course's own
    code_stub, so an untouched answer is recognised as such), else grader's release."""
    path = course.release_dir / module.id / module.notebook_name
    if not path.is_file():
        return built
    try:
        on_disk = parse_notebook(path.read_text(encoding="utf-8"))
    except Exception:      # unreadable: grader's own release stands
        return built
    if "grader" in on_disk.metadata:
        return built       # grader's release: `grader validate` keeps it equal to `built`
    on_disk.metadata["grader"] = built.metadata.get("grader", {})
    return on_disk


def open_assignment(course: Course, module_id: str, *, timeout_s: float | None = None,
                    memory_mb: int | None = None, isolation: str = "auto",
                    references: list[Reference] | None = None,
                    engine: Engine | None = None) -> AssignmentContext:
    """The contexts of an assignment's notebooks, sharing one engine (`engine` if given:
    launched already, and owned by the contexts from here on)."""
    notebooks = load_notebooks(course.root, module_id, course=course)
    if len(notebooks) == 1:
        ctx = open_context(course, module_id, timeout_s=timeout_s, memory_mb=memory_mb,
                           isolation=isolation, reference=references[0] if references else None,
                           engine=engine, teach=False)
        ctx.released = handed_out(course, ctx.module, ctx.released)
        ctx.teach()
        return AssignmentContext([ctx])
    engine = engine or engine_for(course, module_id, isolation=isolation)
    engine.start()
    try:
        contexts = []
        for n, module in enumerate(notebooks):
            ref = (references[n] if references else
                   reference_for(course, module, lambda: _Borrowed(engine)))
            contexts.append(GradingContext(
                course=course, module=module,
                released=handed_out(course, module, release_for_grading(course, module, ref.shapes())),
                reference=ref, limits=limits_of(course.policy, timeout_s=timeout_s,
                                                memory_mb=memory_mb),
                engine=engine))
            contexts[-1].teach()
    except BaseException:
        engine.close()
        raise
    return AssignmentContext(contexts)


def locate_all(folder: Path, expected: list[str]) -> tuple[dict[str, Path | None], list[Notice]]:
    """Each expected notebook by its name. If exactly one expected name is missing and
    exactly one unexpected .ipynb is there, it stands for that one (`renamed`); any
    other unexpected notebook is ignored, with a notice that says why."""
    found: dict[str, Path | None] = {name: (folder / name if (folder / name).is_file() else None)
                                     for name in expected}
    others = sorted(p for p in folder.glob("*.ipynb")
                    if p.is_file() and p.name not in expected) if folder.is_dir() else []
    notices: list[Notice] = []
    missing = [name for name, path in found.items() if path is None]
    if len(missing) == 1 and len(others) == 1:
        found[missing[0]] = others[0]
        notices.append(Notice("renamed", None,
                              f"expected {missing[0]} but found {others[0].name}; graded that "
                              f"notebook (name it {missing[0]} next time)"))
        others = []
    for path in others:
        why = ("every expected notebook is there" if not missing else
               f"it cannot tell which of {', '.join(missing)} it is meant to be")
        notices.append(Notice("ignored", None,
                              f"{path.name} was not graded: the assignment expects "
                              f"{', '.join(expected)}, and {why}"))
    return found, notices


def _stage(folder: Path, path: Path, name: str, tmp: Path) -> Path:
    """A view of the submission folder for one notebook: its data files, and the
    notebook under its expected name (the other notebooks left out)."""
    view = tmp / name.removesuffix(".ipynb")
    view.mkdir()
    for item in folder.iterdir():
        if item.suffix == ".ipynb" or item.name == TIMESTAMP:
            continue
        if item.is_symlink():     # a link stays a link: it must not copy what it points at
            os.symlink(os.readlink(item), view / item.name)
        elif item.is_dir():
            shutil.copytree(item, view / item.name, symlinks=True)
        elif item.is_file():
            shutil.copy2(item, view / item.name)
    shutil.copy2(path, view / name, follow_symlinks=False)   # a linked notebook is refused
    return view


def _tag(result: Result, notebook: str) -> None:
    """Name `notebook` on each of the result's items and unit tests."""
    for record in [*result.items, *result.unit_tests]:
        record.notebook = notebook


def notebook_summary(result: Result, notebook: str) -> NotebookSummary:
    return NotebookSummary(
        notebook=notebook, status=result.status,
        score=round(sum(i.score or 0.0 for i in result.items), 4), max_score=result.max_score,
        needs_manual_grading=sum(1 for i in result.items if i.status == "manual"),
        submission_digest=result.submission_digest)


def grade_assignment(actx: AssignmentContext, student: str, folder: Path, late=None) -> Graded:
    """Grade `folder` (submitted/STUDENT/MODULE): every notebook, then the total."""
    if len(actx.contexts) == 1:
        ctx = actx.contexts[0]
        graded = grade_submission(ctx, student, folder, late=late)
        result = graded.result
        name = ctx.module.notebook_name
        # other notebooks in the folder: say that they were not graded, and why
        _, extra = locate_all(folder, [name])
        result.notices += [n for n in extra if n.kind == "ignored"]
        _tag(result, name)
        result.notebooks = [notebook_summary(result, name)]
        return AssignmentGraded(result=result, executed=graded.executed,
                                executed_all={result.notebook: graded.executed}
                                if graded.executed is not None else {})
    started = time.perf_counter()
    names = [ctx.module.notebook_name for ctx in actx.contexts]
    found, notices = locate_all(folder, names)
    parts: list[Result] = []
    executed: dict[str, NotebookNode] = {}
    with tempfile.TemporaryDirectory(prefix="grader-nb-") as tmp:
        for ctx, name in zip(actx.contexts, names):
            path = found[name]
            if linked_folder(folder):   # grade_submission refuses it, with the reason
                view = folder
            else:
                view = _stage(folder, path, name, Path(tmp)) if path is not None else Path(tmp) / "none"
            part = grade_submission(ctx, student, view, late=None)
            if part.executed is not None:
                executed[name] = part.executed
            _tag(part.result, name)
            parts.append(part.result)
    result = new_result(actx.module, student, ", ".join(names),
                        combined_digest([ctx.reference for ctx in actx.contexts]))
    result.max_score = sum(ctx.module.max_score for ctx in actx.contexts)
    result.submission_digest = hashlib.sha256(
        ":".join(digest_file(p) for p in found.values()).encode()).hexdigest()
    statuses = {p.status for p in parts}
    result.status = ("graded" if "graded" in statuses else
                     "invalid" if "invalid" in statuses else "missing")
    for part, name in zip(parts, names):
        result.items += part.items
        result.unit_tests += part.unit_tests
        notices += [Notice(n.kind, n.cell, f"{name}: {n.message}") for n in part.notices]
    graded_parts = [p for p in parts if p.isolation is not None]
    if graded_parts:
        result.isolation = graded_parts[0].isolation
        result.restarts = sum(p.restarts or 0 for p in graded_parts)
    result.notebooks = [notebook_summary(p, name) for p, name in zip(parts, names)]
    score_late(result, folder, late, notices)
    result.notices = notices
    result.duration_s = round(time.perf_counter() - started, 3)
    return AssignmentGraded(result=result, executed=next(iter(executed.values()), None),
                            executed_all=executed)


def planned_reference(references: list[Reference]) -> Reference:
    """One Reference standing for the assignment in a batch plan (its digest decides
    which submissions are up to date)."""
    return references[0] if len(references) == 1 else replace(
        references[0], digest=combined_digest(references))
