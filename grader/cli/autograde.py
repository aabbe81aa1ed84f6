from __future__ import annotations

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from grader.cli.common import course_of, err, module_ids
from grader.course import Course
from grader.formatting import format_score


@click.command()
@click.argument("module", required=False)
@click.option("--all", "all_modules", is_flag=True, help="Grade every module in course.toml.")
@click.option("--student", "students", multiple=True, help="Only this student (repeatable).")
@click.option("--workers", type=click.IntRange(1, 256), help="Parallel kernels (default: cores).")
@click.option("--timeout", type=click.FloatRange(0.1), help="Seconds per cell and per test call.")
@click.option("--memory", type=click.IntRange(64), help="Memory limit per submission, MB.")
@click.option("--force", is_flag=True, help="Regrade submissions even if nothing changed.")
@click.option("--db", help="Gradebook SQLAlchemy URL (default: course.toml's, else grader.db).")
@click.option("--scheduler", help="Grade on a Dask cluster at this scheduler address.")
@click.option("--no-wait", is_flag=True,
              help="If another autograde runs on this course, exit 2 instead of waiting.")
@click.option("--watch", is_flag=True,
              help="After grading, keep watching submitted/ and grade each new or changed "
                   "submission as it lands (the dashboard follows); Ctrl-C stops.")
@click.option("--settle", type=click.FloatRange(0.1), default=2.0, show_default=True,
              help="With --watch: seconds a submission folder must be quiet before grading.")
@click.option("--prune", is_flag=True,
              help="Remove results whose submission folder is gone (withdrawn submissions).")
@click.pass_context
def autograde(ctx: click.Context, module: str | None, all_modules: bool, students: tuple[str, ...],
              workers: int | None, timeout: float | None, memory: int | None, force: bool,
              db: str | None, scheduler: str | None, no_wait: bool, watch: bool, settle: float,
              prune: bool) -> None:
    """Grade the submissions under submitted/*/MODULE/.

    Lints the module's sources first and refuses (exit 2, nothing written) on any
    error. Writes autograded/STUDENT/MODULE/result.json and the executed notebook,
    feedback/STUDENT/MODULE/<notebook>.html and the gradebook. Unchanged
    submissions are skipped unless --force; an interrupted run resumes where it
    stopped. One run at a time per course: a second one waits for the first.
    Students not on course/roster.csv are graded but left out of the mean.
    """
    from grader.autograde.lock import course_lock
    from grader.lint.command import refuse_on_errors

    if bool(module) == all_modules:
        raise click.UsageError("give a MODULE or --all (not both)")
    course = course_of(ctx)
    modules = module_ids(course, () if all_modules else (module,))
    require_known_students(course, students)
    # Lint first: a duplicate grade_id or a broken marker must stop the batch before
    # anything (gradebook, results) is written.
    refuse_on_errors(course=course.root, module_ids=modules, command="autograde")
    with course_lock(course.build_dir, wait=not no_wait,
                     on_wait=lambda message: err.print(message, markup=False, soft_wrap=True)):
        summaries, pruned, withdrawn = grade(
            course, modules, students=list(students) or None, workers=workers, timeout=timeout,
            memory=memory, force=force, db=db, scheduler=scheduler, prune=prune)
    print_summary(summaries)
    notes = [f"{s.module}: not on course/roster.csv (graded, left out of the mean): "
             f"{', '.join(sorted(set(s.off_roster)))}" for s in summaries if s.off_roster]
    notes += [f"{module_id}: removed {len(gone)} withdrawn result(s): {', '.join(gone)}"
              for module_id, gone in pruned.items()]
    notes += [f"{module_id}: {len(gone)} result(s) whose submission folder is gone (withdrawn): "
              f"{', '.join(gone)}; `grader autograde {module_id} --prune` removes them"
              for module_id, gone in withdrawn.items()]
    for note in notes:
        err.print(note, markup=False, soft_wrap=True)
    err.print(f"results: {course.autograded_dir}  feedback: {course.feedback_dir}")
    if watch:
        watch_submissions(course, modules, settle=settle, no_wait=no_wait,
                          options=dict(workers=workers, timeout=timeout, memory=memory, db=db,
                                       scheduler=scheduler))


def watch_submissions(course: Course, modules: list[str], *, settle: float, no_wait: bool,
                      options: dict) -> None:
    """Grade what lands in submitted/ until Ctrl-C: the same idempotent batch, per
    module, for the students whose folders changed; then the dashboard is rebuilt."""
    from grader.autograde.lock import course_lock
    from grader.autograde.watch import watch
    from grader.gradebook.store import open_gradebook
    from grader.reports.dashboard import build_dashboard

    def grade_landed(module_id: str, students: list[str]) -> None:
        err.print(f"{module_id}: grading {', '.join(students)}", markup=False)
        with course_lock(course.build_dir, wait=not no_wait,
                         on_wait=lambda message: err.print(message, markup=False)):
            summaries, _, _ = grade(course, [module_id], students=students, force=False,
                                    prune=False, **options)
            with open_gradebook(options["db"] or course.db_url, read_only=True) as gradebook:
                page = build_dashboard(course, gradebook)
        print_summary(summaries)
        err.print(f"dashboard: {page}", markup=False)

    watch(course.submitted_dir, modules, settle_s=settle, grade=grade_landed,
          on_start=lambda: err.print(f"watching {course.submitted_dir} for "
                                     f"{', '.join(modules)} (Ctrl-C stops)", markup=False))


def require_known_students(course: Course, students: tuple[str, ...]) -> None:
    """--student must name someone on the roster or with a folder under submitted/."""
    if not students:
        return
    known = {s.id for s in course.roster()}
    if course.submitted_dir.is_dir():
        known |= {p.name for p in course.submitted_dir.iterdir() if p.is_dir()}
    unknown = [s for s in students if s not in known]
    if unknown:
        raise click.BadParameter(
            f"unknown student{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}: "
            "not in course/roster.csv and no folder submitted/"
            f"{unknown[0]}/ (known: {', '.join(sorted(known)[:12]) or 'nobody'}"
            f"{' ...' if len(known) > 12 else ''})", param_hint="'--student'")


def grade(course: Course, modules: list[str], *, students: list[str] | None,
          workers: int | None, timeout: float | None, memory: int | None, force: bool,
          db: str | None, scheduler: str | None, prune: bool):
    """Grade the modules (under the course lock); (summaries, pruned, still withdrawn)."""
    from grader.autograde.batch import Outputs, grade_module
    from grader.autograde.prune import prune as prune_module
    from grader.autograde.prune import withdrawn_students
    from grader.gradebook.store import open_gradebook

    gradebook = open_gradebook(db or course.db_url)
    summaries = []
    pruned: dict[str, list[str]] = {}
    withdrawn: dict[str, list[str]] = {}
    try:
        gradebook.sync_roster(course.roster())
        outputs = Outputs(course, gradebook)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=err, transient=False) as progress:
            tasks: dict[str, int] = {}

            def on_progress(module_id: str, done: int, total: int) -> None:
                if module_id not in tasks:
                    tasks[module_id] = progress.add_task(f"grading {module_id}", total=total or 1)
                    if not total:
                        progress.update(tasks[module_id], completed=1,
                                        description=f"{module_id}: nothing to grade")
                progress.update(tasks[module_id], completed=done)

            for module_id in modules:
                run = gradebook.start_run(module_id, command="autograde")
                if scheduler:
                    from grader.autograde.cluster import grade_module_on_cluster
                    summary = grade_module_on_cluster(
                        course, module_id, scheduler=scheduler, students=students,
                        timeout_s=timeout, memory_mb=memory, force=force, outputs=outputs,
                        on_progress=on_progress)
                else:
                    summary = grade_module(course, module_id, students=students,
                                           workers=workers, timeout_s=timeout, memory_mb=memory,
                                           force=force, outputs=outputs, on_progress=on_progress)
                gradebook.finish_run(run, n_graded=summary.graded, n_failed=summary.failed_to_run)
                summaries.append(summary)
                if prune:
                    pruned[module_id] = prune_module(course, module_id, gradebook)
                else:
                    withdrawn[module_id] = withdrawn_students(course, module_id, gradebook)
    finally:
        gradebook.close()  # checkpoints SQLite's WAL: no grader.db-wal/-shm left behind
    return (summaries, {m: s for m, s in pruned.items() if s},
            {m: s for m, s in withdrawn.items() if s})


def print_summary(summaries: list) -> None:
    table = Table(title="autograde", title_justify="left")
    for column in ("module", "submissions", "graded", "skipped", "failed to run", "mean",
                   "seconds"):
        table.add_column(column, justify="left" if column == "module" else "right")
    for s in summaries:
        mean = format_score(s.mean, s.max_score) if s.mean is not None else "–"
        table.add_row(s.module, str(s.submissions), str(s.graded), str(s.skipped),
                      str(s.failed_to_run), mean, f"{s.duration_s:.1f}")
    err.print(table)
