"""Grade every submission of a module, in parallel, losing nothing on a crash.

One worker thread per core, each owning a warm engine (its own zygote process); the
main thread alone writes outputs, so the gradebook has a single writer. For each
submission the gradebook row is written first and result.json last (atomically):
result.json is the commit mark that lets a re-run skip the submission, so a batch
killed at any point loses nothing already graded and the next run finishes the rest.
"""
from __future__ import annotations

import json
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.autograde.discover import Submission, discover, folder_digest, is_up_to_date
from grader.course import Course
from grader.files import write_atomic
from grader.gradebook.cohort import on_roster, roster_ids
from grader.harness.grade import (TIMESTAMP, Graded, executed_text, grade_submission,
                                  new_result, zero_item_results)
from grader.harness.reference import Reference
from grader.harness.session import GradingContext, engine_for, open_context, reference_for
from grader.extensions import due_for, extension_changed, load_extensions
from grader.late import assess_late, read_submission_time
from grader.gradebook.manual import apply_stored
from grader.harness.assignment import (AssignmentContext, grade_assignment, open_assignment,
                                       planned_reference, references_for)
from grader.module import Module, load_module
from grader.result import Result


@dataclass
class ModuleSummary:
    module: str
    submissions: int = 0
    graded: int = 0
    skipped: int = 0
    failed_to_run: int = 0
    scores: list[float] = field(default_factory=list)   # of roster students: the mean's
    max_score: float = 0.0
    duration_s: float = 0.0
    roster: frozenset[str] = frozenset()     # empty: no roster, everyone counts
    off_roster: list[str] = field(default_factory=list)  # graded, not in the mean

    @property
    def mean(self) -> float | None:
        return sum(self.scores) / len(self.scores) if self.scores else None

    def count(self, result: Result) -> None:
        self.graded += 1
        if on_roster(self.roster, result.student):
            self.scores.append(result.score)
        else:
            self.off_roster.append(result.student)
        if result.failed_to_run:
            self.failed_to_run += 1


@dataclass
class Plan:
    """What a run over one module has to do (shared by local and cluster grading)."""
    module: Any
    summary: ModuleSummary
    reference: Reference
    todo: list[Submission]
    started: float
    references: list[Reference] = field(default_factory=list)   # one per notebook

    def finish(self) -> ModuleSummary:
        self.summary.duration_s = time.perf_counter() - self.started
        return self.summary


def plan_module(course: Course, module_id: str, *, students: list[str] | None, force: bool,
                isolation: str) -> Plan:
    """Discover the submissions, load (or compute) the reference, drop unchanged ones."""
    started = time.perf_counter()
    notebooks, references = references_for(course, module_id, isolation=isolation)
    module = notebooks[0]
    summary = ModuleSummary(module=module_id, max_score=sum(m.max_score for m in notebooks),
                            roster=roster_ids(course))
    submissions = discover(course, module_id, students)
    summary.submissions = len(submissions)
    reference = planned_reference(references)
    extensions = load_extensions(course)
    # an extension granted or changed since a result was written changes its penalty
    todo = [s for s in submissions if force or not is_up_to_date(course, s, reference.digest)
            or extension_changed(course, s.result_path(course),
                                 extensions.get((s.student, module_id)))]
    summary.skipped = len(submissions) - len(todo)
    return Plan(module, summary, reference, todo, started, references)


def late_checker(course: Course, module_id: str) -> Callable[[Path], tuple]:
    """The late policy for submitted/STUDENT/MODULE folders, with the student's
    extension from course/extensions.csv when there is one (grader/extensions.py)."""
    extensions = load_extensions(course)

    def late_for(folder: Path):
        """(submitted_at, days_late, penalty_fraction, notice or None)."""
        extension = extensions.get((folder.parent.name, module_id))
        due = due_for(course, module_id, folder.parent.name, extensions)
        submitted_at, notice = read_submission_time(folder / TIMESTAMP)
        verdict = assess_late(course.late, due, submitted_at)
        # without a due date the time does not matter: no notice about it
        notes = [n for n in (extension.notice() if extension else None,
                             notice if due is not None else None) if n]
        return (submitted_at, verdict.days_late, verdict.penalty_fraction,
                "; ".join(notes) or None)
    return late_for


class Outputs:
    """Everything written for graded submissions, in crash-safe order.

    `write` writes a submission's executed notebooks and feedback at once; its gradebook
    row and result.json wait for `flush`, which records the waiting results in one
    transaction and then writes their result.json files (the commit marks). A batch
    flushes every `batch_size` results or `max_delay_s` seconds (`due()`), and at its end,
    so a batch killed at any point loses at most the results of its last second, and
    those have no result.json: the next run grades them again."""

    def __init__(self, course: Course, gradebook: Any, feedback: bool = True, *,
                 batch_size: int = 32, max_delay_s: float = 1.0):
        self.course, self.gradebook, self.feedback = course, gradebook, feedback
        self.batch_size, self.max_delay_s = batch_size, max_delay_s
        self._env = None          # one compiled Jinja environment for the whole batch
        self._names: dict[str, str] | None = None
        self._pending: list[tuple[Path, Result]] = []
        self._since = 0.0

    def write(self, submission: Submission, graded: Graded) -> None:
        # manual grades given earlier stay, unless the answer they graded changed
        graded.result = apply_stored(self.course, self.gradebook, graded.result)
        result = graded.result
        folder = self.course.autograded_dir / submission.student / submission.module
        executed = getattr(graded, "executed_all", None) or (
            {result.notebook: graded.executed} if graded.executed is not None else {})
        for name, notebook in executed.items():       # one per notebook of the assignment
            write_atomic(folder / name, executed_text(notebook))
        if self.feedback:
            from grader.reports.env import template_env
            from grader.reports.feedback import write_feedback
            if self._env is None:
                self._env = template_env(self.course)
                self._names = {s.id: s.name for s in self.course.roster()}
            write_feedback(self.course, result, env=self._env,
                           student_name=self._names.get(result.student, ""))
        if not self._pending:
            self._since = time.monotonic()
        self._pending.append((folder, result))
        if self.due() == 0.0:
            self.flush()

    def due(self) -> float | None:
        """Seconds until the waiting results must be flushed (None: nothing waits)."""
        if not self._pending:
            return None
        if len(self._pending) >= self.batch_size:
            return 0.0
        return max(0.0, self._since + self.max_delay_s - time.monotonic())

    def flush(self) -> None:
        """The waiting results: gradebook rows (one transaction), then result.json files."""
        pending, self._pending = self._pending, []
        if pending and self.gradebook is not None:
            self.gradebook.record_many([result for _, result in pending])
        for folder, result in pending:
            write_atomic(folder / "result.json",
                         json.dumps(result.to_json(), indent=1, sort_keys=False))


def open_contexts(n: int, opener: Callable[[], GradingContext]) -> list[GradingContext]:
    """Start n engines at once (each warms its own zygote); all or none."""
    opened: list[GradingContext] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def one() -> None:
        try:
            ctx = opener()
        except BaseException as exc:
            with lock:
                failures.append(exc)
            return
        with lock:
            opened.append(ctx)
    threads = [threading.Thread(target=one, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        for ctx in opened:
            ctx.close()
        raise failures[0]
    return opened


def _grade_worker(ctx: AssignmentContext, todo: "queue.Queue[Submission | None]",
                  done: "queue.Queue[tuple[Submission, Graded | BaseException]]",
                  late: Callable) -> None:
    while (submission := todo.get()) is not None:
        try:
            graded = grade_assignment(ctx, submission.student, submission.folder, late=late)
            graded.result.folder_digest = folder_digest(submission.folder)
            done.put((submission, graded))
        except BaseException as exc:  # a harness bug must not stop the batch
            done.put((submission, exc))


def error_result(module: Module, submission: Submission, exc: BaseException) -> Graded:
    """The record of a submission the harness itself failed on (status `error`)."""
    message = f"grading failed: {type(exc).__name__}: {exc}"[:300]
    result = new_result(module, submission.student, module.notebook_name)
    result.status, result.items = "error", zero_item_results(module, "error", message)
    return Graded(result=result, executed=None)


def grade_module(course: Course, module_id: str, *, students: list[str] | None = None,
                 workers: int | None = None, timeout_s: float | None = None,
                 memory_mb: int | None = None, force: bool = False, outputs: Outputs,
                 on_progress: Callable[[str, int, int], None] = lambda *a: None,
                 isolation: str = "auto") -> ModuleSummary:
    # the engines warm up (half a second each) while the submissions are planned
    engines = [engine_for(course, module_id, isolation=isolation).launch()
               for _ in range(max(1, workers or os.cpu_count() or 1))]
    try:
        plan = plan_module(course, module_id, students=students, force=force,
                           isolation=isolation)
        todo_list = plan.todo
        n = max(1, min(len(engines), len(todo_list)))
        for spare in engines[n:] if todo_list else engines:
            spare.close()
        del engines[n if todo_list else 0:]
    except BaseException:
        for engine in engines:
            engine.close()
        raise
    module, summary = plan.module, plan.summary
    on_progress(module_id, 0, len(todo_list))
    if not todo_list:
        return plan.finish()
    contexts = open_contexts(n, lambda: open_assignment(
        course, module_id, timeout_s=timeout_s, memory_mb=memory_mb,
        references=plan.references or [plan.reference], isolation=isolation,
        engine=engines.pop()))
    todo: queue.Queue[Submission | None] = queue.Queue()
    for s in todo_list:
        todo.put(s)
    for _ in range(n):
        todo.put(None)
    done: queue.Queue = queue.Queue()
    late = late_checker(course, module_id)
    pool = [threading.Thread(target=_grade_worker, args=(ctx, todo, done, late), daemon=True)
            for ctx in contexts]
    for t in pool:
        t.start()
    try:
        for count in range(1, len(todo_list) + 1):
            while True:
                try:
                    submission, graded = done.get(timeout=outputs.due())
                    break
                except queue.Empty:   # results have waited long enough: commit them
                    outputs.flush()
            if isinstance(graded, BaseException):
                graded = error_result(module, submission, graded)
            outputs.write(submission, graded)
            summary.count(graded.result)
            on_progress(module_id, count, len(todo_list))
    finally:
        outputs.flush()   # also on Ctrl-C: what was graded is kept
        while not todo.empty():      # on Ctrl-C: let the workers stop after their current one
            todo.get_nowait()
        for _ in pool:
            todo.put(None)
        for t in pool:
            t.join(timeout=5)
        for ctx in contexts:
            ctx.close()
    return plan.finish()
