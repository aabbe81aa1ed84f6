"""`grader validate`: CI for a course's reference solutions.

Per module, in course order, the checks (each one a JUnit test case):
lint (and course.toml's per-item tables name real items) -> export -> reference (full marks, unit tests pass, no cell errors) ->
stub (the release earns zero on every item) -> determinism (no volatile answers) ->
freshness (release/ is what `grader release` would write) -> with --mutants, mutants
(each item's mutation score reaches course.toml's [mutants] min_score).
Every problem is one line `FILE:LINE: module: message`.
"""
from __future__ import annotations

import copy
import re
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from grader.course import Course
from grader.errors import GraderError
from grader.export import build
from grader.harness.grade import grade_submission
from grader.harness.assignment import open_assignment
from grader.harness.session import GradingContext
from grader.module import Module, load_notebooks
from grader.release import release, release_path
from grader.result import ItemResult, Result

CHECKS = ("lint", "export", "reference", "stub", "determinism", "freshness")
MUTANT_CHECK = "mutants"     # with `grader validate --mutants` (course.toml [mutants] min_score)


@dataclass
class ValidationProblem:
    path: Path
    line: int
    module: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.module}: {self.message}"


@dataclass
class CheckOutcome:
    check: str
    module: str
    problems: list[ValidationProblem] = field(default_factory=list)
    skipped: str | None = None
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


def _rel(course: Course, path: Path) -> Path:
    try:
        return path.relative_to(course.root)
    except ValueError:
        return path


def check_lint(course: Course, module: Module) -> list[ValidationProblem]:
    from grader.lint import lint_file
    return [ValidationProblem(_rel(course, p.path), p.line, module.id, f"lint {p.code}: {p.message}")
            for p in lint_file(module.path) if p.severity == "error"]


def check_config(course: Course, module: Module) -> list[ValidationProblem]:
    """course.toml's per-item tables must name graded items of the module (else they
    would be ignored, and the tolerance or declaration the instructor meant with them)."""
    from grader.course import COURSE_FILE
    from grader.course_schema import item_lines

    named = {*course.item_overrides.get(module.id, {}),
             *getattr(course, "item_assessments", {}).get(module.id, {}),
             *getattr(course, "item_in_kernel", {}).get(module.id, set())}
    graded = [item.id for item in module.items]
    unknown = sorted(named - set(graded))
    if not unknown:
        return []
    lines = item_lines(course.root / COURSE_FILE)
    return [ValidationProblem(COURSE_FILE, lines.get((module.id, item_id), 1), module.id,
                    f"[items.\"{module.id}\".\"{item_id}\"] names no graded item of "
                    f"{module.path.name} (graded: {', '.join(graded) or 'none'})")
            for item_id in unknown]


def check_config_all(course: Course, notebooks: list[Module]) -> list[ValidationProblem]:
    """check_config over an assignment: an item table may name an item of any notebook."""
    if len(notebooks) == 1:
        return check_config(course, notebooks[0])
    graded = {item.id for module in notebooks for item in module.items}
    return [p for p in check_config(course, notebooks[0])
            if not any(f'."{item_id}"]' in p.message for item_id in graded)]


def check_export(course: Course, module: Module) -> list[ValidationProblem]:
    if not module.export_cells:
        return []
    stage = build(course, through=module.id)
    name = f"{course.framework}.{module.export_target}"
    proc = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True,
                          text=True, cwd=tempfile.gettempdir(), timeout=120,
                          env={**os.environ, "PYTHONPATH": str(stage.path)})
    if proc.returncode == 0:
        return []
    last = (proc.stderr.strip().splitlines() or ["import failed"])[-1]
    return [ValidationProblem(_rel(course, module.path), module.export_cells[0].line, module.id,
                    f"the exported {name} does not import: {last}")]


def _grade_notebook(ctx: GradingContext, nb: nbformat.NotebookNode) -> Result:
    with tempfile.TemporaryDirectory(prefix="grader-validate-") as tmp:
        folder = Path(tmp)
        nbformat.write(nb, folder / ctx.module.notebook_name)
        return grade_submission(ctx, "reference", folder).result


_CHECKED_AT = re.compile(r"checked by \S+, line (\d+)")


def _failing_line(module: Module, item: ItemResult) -> int:
    """The source line where a test item failed on the reference (e.g. a test the trusted
    driver cannot carry), else the item's cell header. In a jupytext .py source, line k
    of a cell's body is k lines below its `# %%` header."""
    found = _CHECKED_AT.search(item.message)
    if item.kind == "test" and found and module.path.suffix == ".py":
        return item.line + int(found.group(1))
    return item.line


def check_reference(ctx: GradingContext) -> list[ValidationProblem]:
    module, path = ctx.module, _rel(ctx.course, ctx.module.path)
    nb = copy.deepcopy(module.source.notebook)
    result = _grade_notebook(ctx, nb)
    problems = []
    for item in result.items:
        if item.kind != "manual" and item.score < item.points:
            problems.append(ValidationProblem(path, _failing_line(module, item), module.id,
                                    f"the reference earns {item.score:g}/{item.points:g} "
                                    f"on '{item.id}': {item.message}"))
    cells = {c.key: c for c in module.source.cells}
    for unit in result.unit_tests:
        if unit.status != "passed":
            line = next((u.cell.line for u in module.unit_tests if u.name == unit.name), 1)
            problems.append(ValidationProblem(path, line, module.id,
                                    f"unit test {unit.name} {unit.status} on the reference: "
                                    f"{unit.message}"))
    for key, status in (ctx.reference.cells if ctx.reference else {}).items():
        if status != "ok" and key in cells:
            problems.append(ValidationProblem(path, cells[key].line, module.id,
                                    f"the reference cell '{key}' ends with {status}"))
    return problems


def check_stub(ctx: GradingContext) -> list[ValidationProblem]:
    module, path = ctx.module, _rel(ctx.course, ctx.module.path)
    result = _grade_notebook(ctx, copy.deepcopy(ctx.released))
    return [ValidationProblem(path, item.line, module.id,
                    f"vacuous {item.kind}: the untouched release earns {item.score:g}/"
                    f"{item.points:g} on '{item.id}' (it passes without the solution)")
            for item in result.items if item.score > 0]


def check_determinism(ctx: GradingContext) -> list[ValidationProblem]:
    module, path = ctx.module, _rel(ctx.course, ctx.module.path)
    volatile = ctx.reference.volatile if ctx.reference else {}
    return [ValidationProblem(path, module.item(item).line, module.id,
                    f"'{item}' answers differently on two reference runs: volatile "
                    f"{', '.join(keys)} (seed the randomness or drop the key)")
            for item, keys in volatile.items()]


def check_freshness(course: Course, module: Module, ctx: GradingContext) -> list[ValidationProblem]:
    shapes = ctx.reference.shapes() if ctx.reference else {}
    ours = release_path(course, module)          # an assignment releases each of its notebooks
    result = next(r for r in release(course, [module.id], check=True, shapes_for=lambda m: shapes)
                  if r.path == ours)
    if not result.changed:
        return []
    return [ValidationProblem(_rel(course, result.path), result.line, module.id,
                    "release is stale: run `grader release " + module.id + "` and commit it")]


def check_mutants(course: Course, module: Module, ctx: GradingContext) -> list[ValidationProblem]:
    """Each graded item's mutation score against course.toml's [mutants] min_score."""
    from grader.mutants.generate import KIND_PRIORITY
    from grader.mutants.run import run_mutants
    from grader.mutants.settings import mutant_settings
    settings = mutant_settings(course)
    report = run_mutants(course, module.id, max_mutants=settings.max, seed=settings.seed,
                         timeout_s=settings.timeout_s, context=ctx)
    problems = []
    for item in report.items:
        if item.score is None or settings.min_score is None or item.score >= settings.min_score:
            continue
        # the telling example first: a function answering a constant, then the rest
        worst = min(item.survivors, key=lambda m: KIND_PRIORITY.index(m.kind))
        problems.append(ValidationProblem(
            _rel(course, module.path), item.line, module.id,
            f"'{item.id}' kills {len(item.killed)} of {len(item.in_scope)} mutants "
            f"({item.score:.0%}), below [mutants] min_score {settings.min_score:.0%}; e.g. "
            f"{report.where(worst.line)} survives: {worst.diff} (see `grader mutants {module.id}`)"))
    return problems


def mutants_skip(course: Course) -> str | None:
    from grader.mutants.settings import mutant_settings
    if mutant_settings(course).min_score is None:
        return "course.toml sets no [mutants] min_score"
    return None


def in_course_order(course: Course, module_ids: list[str]) -> list[str]:
    """Each module once, in course.toml's order (unknown ids last, as given)."""
    order = {m.id: index for index, m in enumerate(course.modules)}
    return sorted(dict.fromkeys(module_ids), key=lambda m: order.get(m, len(order)))


def validate(course: Course, module_ids: list[str], *,
             on_check: Callable[[CheckOutcome], None] = lambda o: None,
             mutants: bool = False) -> list[CheckOutcome]:
    """Run the checks for `module_ids`, module by module in course order; with
    `mutants`, also the weak-test check (MUTANT_CHECK) after them."""
    outcomes: list[CheckOutcome] = []
    module_ids = in_course_order(course, module_ids)

    def run(check: str, module_id: str, fn: Callable[[], list[ValidationProblem]],
            skip: str | None = None) -> CheckOutcome:
        started = time.perf_counter()
        outcome = CheckOutcome(check, module_id, skipped=skip)
        if skip is None:
            try:
                outcome.problems = fn()
            except GraderError as exc:
                outcome.problems = [ValidationProblem(Path(f"source/{module_id}"), 1, module_id, str(exc))]
        outcome.duration_s = time.perf_counter() - started
        outcomes.append(outcome)
        on_check(outcome)
        return outcome

    for module_id in module_ids:
        try:
            notebooks = load_notebooks(course.root, module_id, course=course)
        except GraderError as exc:
            unreadable = [ValidationProblem(Path(f"source/{module_id}"), 1, module_id, str(exc))]
            run("lint", module_id, lambda: unreadable)
            for check in CHECKS[1:]:
                run(check, module_id, list, skip="the source could not be read")
            continue
        module = notebooks[0]
        lint = run("lint", module_id,
                   lambda: [p for m in notebooks for p in check_lint(course, m)]
                   + check_config_all(course, notebooks))
        export = run("export", module_id,
                     lambda: [p for m in notebooks for p in check_export(course, m)])
        blocked = ("lint errors" if not lint.ok else "export failed" if not export.ok else None)
        actx = None
        if blocked is None:
            try:
                actx = open_assignment(course, module_id)
            except GraderError as exc:
                blocked = f"could not run the reference: {exc}"
        contexts = actx.contexts if actx is not None else []

        def each(check: Callable[[GradingContext], list[ValidationProblem]]) -> Callable[[], list[ValidationProblem]]:
            return lambda: [p for ctx in contexts for p in check(ctx)]   # every notebook
        try:
            reference = run("reference", module_id, each(check_reference), skip=blocked)
            run("stub", module_id, each(check_stub), skip=blocked)
            run("determinism", module_id, each(check_determinism), skip=blocked)
            run("freshness", module_id,
                each(lambda ctx: check_freshness(course, ctx.module, ctx)), skip=blocked)
            if mutants:
                run(MUTANT_CHECK, module_id,
                    each(lambda ctx: check_mutants(course, ctx.module, ctx)),
                    skip=blocked or mutants_skip(course)
                    or (None if reference.ok else "the reference does not earn full marks"))
        finally:
            if actx is not None:
                actx.close()
    return outcomes


def junit_xml(course: Course, outcomes: list[CheckOutcome]) -> str:
    """JUnit XML: one <testsuite> per module, one <testcase> per check."""
    from xml.etree import ElementTree as ET
    suites = ET.Element("testsuites", name=f"grader validate {course.id}")
    by_module: dict[str, list[CheckOutcome]] = {}
    for outcome in outcomes:
        by_module.setdefault(outcome.module, []).append(outcome)
    for module_id, checks in by_module.items():
        suite = ET.SubElement(suites, "testsuite", name=module_id, tests=str(len(checks)),
                              failures=str(sum(1 for c in checks if not c.ok)), errors="0",
                              skipped=str(sum(1 for c in checks if c.skipped)),
                              time=f"{sum(c.duration_s for c in checks):.3f}")
        for c in checks:
            case = ET.SubElement(suite, "testcase", name=c.check, classname=f"{course.id}.{module_id}",
                                 time=f"{c.duration_s:.3f}")
            if c.skipped:
                ET.SubElement(case, "skipped", message=c.skipped)
            elif c.problems:
                failure = ET.SubElement(case, "failure", message=str(c.problems[0]),
                                        type="ValidationProblem")
                failure.text = "\n".join(str(p) for p in c.problems)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
