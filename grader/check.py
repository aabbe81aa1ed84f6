"""`grader check`: a student's self-check of their own notebook.

Works with nothing but the notebook and the installed package: the notebook's own
cells say what the tests are (the release has no hidden tests and no reference
values); its metadata says the module and, for each assessment, the shape the answer
should have. Locked cells a student edited are detected by nbgrader's checksums and
reported, since the autograder will restore them. When run inside the course (an
instructor trying a notebook), the module's framework stage build is used.
"""
from __future__ import annotations

import copy
import importlib.util
import re
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import nbformat
from grader.checksum import compute_checksum

from grader.course import Course, Policy, load_course
from grader.engine import CallResult, Cell, Engine, Job
from grader.errors import ConfigError, SubmissionError
from grader.harness.compare import shape_problems
from grader.harness.grade import read_submission
from grader.harness.merge import merge
from grader.harness.messages import CellLabel
from grader.harness.plan import graded_calls, limits_of
from grader.harness.score import (call_message, cell_error_notices, cell_labels, run_notices,
                                  unit_test_records)
from grader.module import GradedItem, Module, build_module
from grader.nbgrader_metadata import is_protected, is_solution, nbgrader_metadata
from grader.result import Isolation, ItemResult, Notice, Result
from grader.self_check_guard import GUARD_ENV
from grader.sources import SourceCell, SourceNotebook


@dataclass
class CheckReport:
    result: Result          # status `checked`; items have no score until graded

    @property
    def record(self) -> dict[str, Any]:
        """The result as JSON (`grader check --json`, the self-check pages)."""
        return self.result.to_json()

    @property
    def all_visible_tests_pass(self) -> bool:
        return (all(i.status == "passed" for i in self.result.items if i.kind == "test")
                and all(u.status == "passed" for u in self.result.unit_tests))


def module_from_notebook(path: Path, nb: nbformat.NotebookNode) -> Module:
    cells = [SourceCell(index=i, cell=c, line=i + 1, body_line=i + 1)
             for i, c in enumerate(nb.cells)]
    meta = nb.metadata.get("grader", {})
    module_id = meta.get("module") or path.parent.name
    # the release records an answer shape for each declared assessment (release.py)
    shapes = meta.get("assessments") or {}
    return build_module(SourceNotebook(path=path, notebook=nb, cells=cells, text=""), module_id,
                        tuple(meta.get("skip_unit_tests", ())),
                        is_assessment=lambda item_id: item_id in shapes)


def tampered_cells(nb: nbformat.NotebookNode) -> list[Notice]:
    notices = []
    for cell in nb.cells:
        meta = nbgrader_metadata(cell)
        if not is_protected(meta, cell.cell_type) or "checksum" not in meta or is_solution(meta):
            continue
        try:
            ok = compute_checksum(cell) == meta["checksum"]
        except (KeyError, ValueError, TypeError):
            ok = True
        if not ok:
            notices.append(Notice("tampered", meta.get("grade_id"),
                                  f"you edited the locked cell '{meta.get('grade_id')}'; the "
                                  "autograder will grade it as released"))
    return notices


def installed_framework(name: str | None) -> Path | None:
    """The folder holding the installed framework package (for the sandbox's allow-list)."""
    if not name:
        return None
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]).parent


def imports_framework(nb: nbformat.NotebookNode, name: str) -> bool:
    """Whether a code cell of the notebook imports the framework package `name`."""
    pattern = re.compile(rf"^\s*(?:from|import)\s+{re.escape(name)}(?![\w])", re.M)
    return any(cell.get("cell_type") == "code" and pattern.search(cell.get("source", ""))
               for cell in nb.cells)


def _course_framework(course_root: Path | None, module_id: str, framework: str | None
                      ) -> tuple[Path | None, list[str], Policy]:
    """The stage build when the notebook is checked inside its course, else the
    framework package installed where grader runs."""
    outside = (installed_framework(framework), ["numpy", *([framework] if framework else [])])
    if course_root is None or not (course_root / "course" / "course.toml").is_file():
        return *outside, Policy()
    course: Course = load_course(course_root)
    if module_id not in {m.id for m in course.modules}:
        return *outside, course.policy
    from grader.export import build
    stage = build(course, before=module_id)
    return stage.path, ["numpy", *stage.preload(course.framework)], course.policy


GUARD_KEY = "grader-self-check-guard"


def guard_cell() -> Cell:
    """Run first in the sandbox: marks its process (and every process it starts) as
    inside a self-check, so a `grader.check()`, `%grader check` or `!grader check` in
    the checked notebook does nothing instead of checking the notebook again."""
    return Cell(key=GUARD_KEY, source=f"__import__('os').environ[{GUARD_ENV!r}] = '1'")


def check_notebook(path: Path, *, course_root: Path | None = None, timeout_s: float | None = None,
                   isolation: str = "auto") -> CheckReport:
    started = time.perf_counter()
    if not path.is_file():
        raise SubmissionError(f"{path}: no such notebook")
    try:
        nb = read_submission(path)
    except ValueError as exc:
        raise SubmissionError(f"{path}: {exc}") from None
    meta = nb.metadata.get("grader")
    if not isinstance(meta, dict) or "module" not in meta:
        raise ConfigError(f"{path} has no grader metadata: is it a notebook from release/? "
                          "(grader check needs the course's released notebook)")
    module = module_from_notebook(path, nb)
    framework, preload, policy = _course_framework(course_root, module.id, meta.get("framework"))
    name = meta.get("framework")
    if framework is None and name and imports_framework(nb, name):
        # without it every test fails with NameError: say the one thing to fix instead
        raise ConfigError(
            f"the course framework `{name}` cannot be imported here, and {path.name} imports "
            f"it: make it importable (`pip install` it, or set PYTHONPATH to the folder that "
            f"holds `{name}/`, e.g. the course's build/framework) or run `grader --course "
            f"COURSE_DIR check {path.name}` inside the course")
    merged = merge(module, nb, copy.deepcopy(nb))
    cells = [Cell(key=c.key, source=c.cell.source) for c in merged.code_cells()]
    job = Job(cells=[guard_cell(), *cells],
              # a self-check decides no grade: its tests may run in the kernel
              calls=graded_calls(module, self_check=True),
              workdir=path.parent, workdir_mode="overlay",   # nothing copied: fast beside a venv
              limits=limits_of(policy, timeout_s=timeout_s))
    with Engine(framework_path=framework, preload=preload, isolation=isolation) as engine:
        run = engine.run(job)
    calls = {c.key: c for c in run.calls}
    labels = cell_labels(merged)
    shapes = meta.get("assessments", {})
    items = [_checked_item(item, calls.get(item.id), labels, shapes) for item in module.items]
    notices = tampered_cells(nb) + run_notices(run) + cell_error_notices(module, run, merged)
    return CheckReport(Result(
        student=None, module=module.id, notebook=path.name, status="checked",
        score=sum(i.score or 0 for i in items if i.kind == "test"),
        max_score=module.max_score, items=items, unit_tests=unit_test_records(run, merged),
        notices=notices,
        isolation=Isolation.from_report(run.isolation),
        duration_s=round(time.perf_counter() - started, 3)))


def _checked_item(item: GradedItem, call: CallResult | None, labels: dict[str, CellLabel],
                  shapes: dict[str, Any]) -> ItemResult:
    """A self-check's verdict on one item: tests pass or not; an assessment only says
    whether an answer of the expected shape came back (no reference values here)."""
    checked = partial(ItemResult, id=item.id, kind=item.kind, points=item.points, score=None)
    if item.kind == "manual":
        return checked(status="manual", message="needs manual grading")
    if call is None:
        return checked(status="missing", message="not run")
    if call.status != "passed":
        return checked(status=call.status, message=call_message(call, labels))
    if item.kind == "test":
        return checked(status="passed", score=item.points, message="all visible checks passed")
    problems = shape_problems(call.value, shapes[item.id]) if item.id in shapes else []
    return checked(status="answered" if not problems else "failed",
                   message="answered with the expected shape (correctness is checked "
                           "when graded)" if not problems else "; ".join(problems))
