from __future__ import annotations

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from grader.cli.common import course_of, err, module_ids
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
@click.pass_context
def autograde(ctx: click.Context, module: str | None, all_modules: bool, students: tuple[str, ...],
              workers: int | None, timeout: float | None, memory: int | None, force: bool,
              db: str | None, scheduler: str | None) -> None:
    """Grade the submissions under submitted/*/MODULE/.

    Lints the module's sources first and refuses (exit 2, nothing written) on any
    error. Writes autograded/STUDENT/MODULE/result.json and the executed notebook,
    feedback/STUDENT/MODULE/<notebook>.html and the gradebook. Unchanged
    submissions are skipped unless --force; an interrupted run resumes where it
    stopped.
    """
    from grader.autograde.batch import Outputs, grade_module
    from grader.gradebook.store import open_gradebook

    if bool(module) == all_modules:
        raise click.UsageError("give a MODULE or --all (not both)")
    course = course_of(ctx)
    modules = module_ids(course, () if all_modules else (module,))
    # Lint first: a duplicate grade_id or a broken marker must stop the batch before
    # anything (gradebook, results) is written.
    from grader.lint.command import refuse_on_errors
    refuse_on_errors(course=course.root, module_ids=modules, command="autograde")
    gradebook = open_gradebook(db or course.db_url)
    try:
        gradebook.sync_roster(course.roster())
        outputs = Outputs(course, gradebook)
        summaries = []
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
                        course, module_id, scheduler=scheduler, students=list(students) or None,
                        timeout_s=timeout, memory_mb=memory, force=force, outputs=outputs,
                        on_progress=on_progress)
                else:
                    summary = grade_module(course, module_id, students=list(students) or None,
                                           workers=workers, timeout_s=timeout, memory_mb=memory,
                                           force=force, outputs=outputs, on_progress=on_progress)
                gradebook.finish_run(run, n_graded=summary.graded, n_failed=summary.failed_to_run)
                summaries.append(summary)
    finally:
        gradebook.close()  # checkpoints SQLite's WAL: no grader.db-wal/-shm left behind
    print_summary(summaries)
    err.print(f"results: {course.autograded_dir}  feedback: {course.feedback_dir}")


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
