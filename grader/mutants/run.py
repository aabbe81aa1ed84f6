"""`grader mutants`: grade mutants of the reference with the real harness and engine.

Stages, in order: generate the mutants of the solution regions (generate.py) -> pick
at most `max` of them (deterministic for a seed) -> grade the unmutated reference once
(the baseline: which items it earns in full, which cells end cleanly) -> grade every
mutant, one warm GradingContext per worker thread -> per graded item, the mutants in
its scope that still earn full marks.

A mutant's scope: mutants in solution cells that are not graded items (the code the
tests exercise) are in every test item's scope; a mutant in a graded answer cell (an
assessment's function) is in that item's scope only. A mutant is killed for an item
when the item loses points, or when the mutated cell itself fails to run (an error at
definition time: it "does not import"), times out or crashes while the reference's did
not, or when the whole notebook could not be graded.
"""
from __future__ import annotations

import copy
import os
import queue
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import nbformat

from grader.autograde.batch import open_contexts
from grader.course import Course
from grader.errors import ConfigError
from grader.harness.grade import grade_submission
from grader.harness.plan import limits_of
from grader.harness.session import GradingContext, open_context
from grader.module import Module, load_module
from grader.result import Result
from grader.sources import find_module_sources
from grader.mutants.generate import Mutant, generate, sample
from grader.synth import cell as cell_of, solved

DEFAULT_MAX = 60          # a run on the Training module: about a minute on 2 cores
DEFAULT_SEED = 0
DEFAULT_TIMEOUT_S = 10.0  # per cell and per graded call; a mutant stuck in a loop is killed
CELL_FAILURES = ("timeout", "crashed")


@dataclass
class MutantOutcome:
    mutant: Mutant
    killed_by: list[str] = field(default_factory=list)    # item ids that lost points
    failure: str | None = None     # "error" | "timeout" | "crashed" | "ungraded: ..."
    harness_error: str | None = None   # grader itself failed: neither killed nor survived

    @property
    def killed(self) -> bool:
        return self.harness_error is None and bool(self.killed_by or self.failure)
    scores: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0


@dataclass
class ItemReport:
    id: str
    kind: str
    points: float
    line: int
    in_scope: list[str] = field(default_factory=list)     # mutant ids
    killed: list[str] = field(default_factory=list)
    survivors: list[Mutant] = field(default_factory=list)
    skipped: str | None = None    # why this item is not checked (reference not full marks)

    @property
    def score(self) -> float | None:
        return len(self.killed) / len(self.in_scope) if self.in_scope else None


@dataclass
class MutantsReport:
    module: str
    source: str               # course-relative path of the source
    seed: int
    max: int | None
    generated: int
    outcomes: list[MutantOutcome]
    items: list[ItemReport]
    duration_s: float = 0.0

    @property
    def killed(self) -> int:
        return sum(1 for o in self.outcomes if o.killed)

    @property
    def graded(self) -> list[MutantOutcome]:
        """The outcomes that count (a mutant the harness failed on is left out)."""
        return [o for o in self.outcomes if o.harness_error is None]

    @property
    def score(self) -> float | None:
        return self.killed / len(self.graded) if self.graded else None

    def where(self, line: int) -> str:
        return f"{self.source}:{line}"

    def as_dict(self) -> dict[str, Any]:
        def mutant(m: Mutant) -> dict[str, Any]:
            return {"id": m.id, "where": self.where(m.line), "line": m.line, "cell": m.cell_key,
                    "function": m.function, "kind": m.kind, "before": m.before,
                    "after": m.after, "diff": m.diff}
        return {
            "module": self.module, "source": self.source, "seed": self.seed, "max": self.max,
            "generated": self.generated, "graded": len(self.graded), "killed": self.killed,
            "score": _round(self.score), "duration_s": round(self.duration_s, 2),
            "items": [{"id": i.id, "kind": i.kind, "points": i.points,
                       "where": self.where(i.line), "mutants": len(i.in_scope),
                       "killed": len(i.killed), "score": _round(i.score), "skipped": i.skipped,
                       "survivors": [mutant(m) for m in i.survivors]} for i in self.items],
            "mutants": [{**mutant(o.mutant), "status": "not graded" if o.harness_error else
                         "killed" if o.killed else "survived", "killed_by": o.killed_by,
                         "failure": o.failure, "harness_error": o.harness_error,
                         "scores": o.scores, "duration_s": round(o.duration_s, 2)}
                        for o in self.outcomes],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def autograded_items(module: Module) -> list:
    """The items a mutant can lose points on (manual items are graded by hand)."""
    return [item for item in module.items if item.kind != "manual"]


def in_scope(module: Module, item_id: str, mutant: Mutant) -> bool:
    """A test item answers for the solution code outside graded answer cells; an
    assessment (or any graded answer cell) for its own cell's code."""
    answer_cells = {item.id for item in module.items}
    if module.item(item_id).kind == "test":
        return mutant.cell_key not in answer_cells
    return mutant.cell_key == item_id


def _grade(ctx: GradingContext, nb: nbformat.NotebookNode, name: str) -> tuple[Result, Any]:
    with tempfile.TemporaryDirectory(prefix="grader-mutant-") as tmp:
        nbformat.write(nb, Path(tmp) / ctx.module.notebook_name)
        graded = grade_submission(ctx, name, Path(tmp))
    return graded.result, graded.executed


def cell_failures(result: Result, executed: Any) -> dict[str, str]:
    """cell key -> "error" | "timeout" | "crashed" for the cells that did not end cleanly."""
    failed: dict[str, str] = {}
    for cell in (executed.cells if executed is not None else []):
        key = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if key and any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            failed[key] = "error"
    for notice in result.notices:
        if notice.kind in CELL_FAILURES and notice.cell:
            failed[notice.cell] = notice.kind
    return failed


def judge(module: Module, mutant: Mutant, result: Result, executed: Any,
          baseline_failures: dict[str, str]) -> MutantOutcome:
    outcome = MutantOutcome(mutant, scores={i.id: i.score for i in result.items})
    if result.status != "graded":
        outcome.failure = f"ungraded: {result.status}"
        return outcome
    failed = cell_failures(result, executed).get(mutant.cell_key)
    if failed and mutant.cell_key not in baseline_failures:
        outcome.failure = failed
    for item in result.items:
        if item.kind != "manual" and in_scope(module, item.id, mutant) \
                and item.score < item.points - 1e-9:
            outcome.killed_by.append(item.id)
    return outcome


def mutant_notebook(ctx: GradingContext, reference: nbformat.NotebookNode,
                    mutant: Mutant) -> nbformat.NotebookNode:
    nb = copy.deepcopy(reference)
    cell_of(nb, mutant.cell_key).source = mutant.source
    return nb


def run_mutants(course: Course, module_id: str, *, max_mutants: int | None = DEFAULT_MAX,
                workers: int | None = None, seed: int = DEFAULT_SEED,
                timeout_s: float = DEFAULT_TIMEOUT_S, only: list[str] | None = None,
                on_progress: Callable[[int, int], None] = lambda done, total: None,
                context: GradingContext | None = None) -> MutantsReport:
    """Generate, pick and grade the mutants of `module_id`. `only`: mutant ids graded
    first, whether the sample holds them or not (a targeted check). `context`: an open
    context of the module to use as the first worker (left open)."""
    started = time.perf_counter()
    sources = find_module_sources(course.source_dir / module_id)
    if len(sources) > 1:
        raise ConfigError(f"{module_id} has {len(sources)} notebooks; grader mutants handles "
                          "modules of one notebook")
    module = load_module(course.root, module_id)
    every = generate(module)
    picked = sample(every, max_mutants, seed)
    if only:
        wanted = set(only)
        unknown = sorted(wanted - {m.id for m in every})
        if unknown:
            raise ConfigError(f"no such mutant of {module_id}: {', '.join(unknown)} "
                              "(ids are listed by `grader mutants --json`)")
        picked = [m for m in every if m.id in wanted] + [m for m in picked if m.id not in wanted]
        picked = picked[:max(len(wanted), max_mutants or 0)]
    try:
        source = str(module.path.relative_to(course.root))
    except ValueError:
        source = str(module.path)
    items = [ItemReport(i.id, i.kind, i.points, i.line) for i in autograded_items(module)]
    report = MutantsReport(module_id, source, seed, max_mutants, len(every), [], items)
    limits = limits_of(course.policy, timeout_s=timeout_s)

    first = context or open_context(course, module_id)
    saved_limits, first.limits = first.limits, limits
    contexts = [first]
    try:
        n = max(1, min(workers or os.cpu_count() or 1, len(picked)))
        if n > 1:
            contexts += open_contexts(n - 1, lambda: open_context(
                course, module_id, reference=first.reference))
            for ctx in contexts[1:]:
                ctx.limits = limits
        reference_nb = solved(first.module, first.released)
        base, base_executed = _grade(first, reference_nb, "reference")
        baseline_failures = cell_failures(base, base_executed)
        full = {i.id for i in base.items if i.score >= i.points - 1e-9}
        for item in items:
            if item.id not in full:
                got = next((i for i in base.items if i.id == item.id), None)
                item.skipped = (f"the reference earns {got.score if got else 0:g}/"
                                f"{item.points:g}: {got.message if got else ''}".strip())
        outcomes = _grade_all(contexts, module, picked, reference_nb, baseline_failures,
                              on_progress)
    finally:
        first.limits = saved_limits
        for ctx in contexts:
            if ctx is not context:
                ctx.close()
    order = {m.id: n for n, m in enumerate(picked)}
    report.outcomes = sorted(outcomes, key=lambda o: order[o.mutant.id])
    for item in items:
        if item.skipped:
            continue
        for o in report.graded:
            if not in_scope(module, item.id, o.mutant):
                continue
            item.in_scope.append(o.mutant.id)
            if item.id in o.killed_by or o.failure:
                item.killed.append(o.mutant.id)
            else:
                item.survivors.append(o.mutant)
    report.duration_s = time.perf_counter() - started
    return report


def _grade_all(contexts: list[GradingContext], module: Module, picked: list[Mutant],
               reference_nb: nbformat.NotebookNode, baseline_failures: dict[str, str],
               on_progress: Callable[[int, int], None]) -> list[MutantOutcome]:
    todo: queue.Queue[Mutant | None] = queue.Queue()
    for m in picked:
        todo.put(m)
    for _ in contexts:
        todo.put(None)
    done: queue.Queue[MutantOutcome | BaseException] = queue.Queue()

    def worker(ctx: GradingContext) -> None:
        while (mutant := todo.get()) is not None:
            t0 = time.perf_counter()
            try:
                result, executed = _grade(ctx, mutant_notebook(ctx, reference_nb, mutant),
                                          f"mutant-{mutant.line}")
                outcome = judge(module, mutant, result, executed, baseline_failures)
            except BaseException as exc:   # a harness failure on a mutant: report it, go on
                outcome = MutantOutcome(mutant, harness_error=f"{type(exc).__name__}: {exc}"[:200])
            outcome.duration_s = time.perf_counter() - t0
            done.put(outcome)

    threads = [threading.Thread(target=worker, args=(ctx,), daemon=True) for ctx in contexts]
    for t in threads:
        t.start()
    outcomes: list[MutantOutcome] = []
    try:
        on_progress(0, len(picked))
        for count in range(1, len(picked) + 1):
            outcomes.append(done.get())
            on_progress(count, len(picked))
    finally:
        while not todo.empty():
            todo.get_nowait()
        for _ in threads:
            todo.put(None)
        for t in threads:
            t.join(timeout=30)
    return outcomes
