from __future__ import annotations

from pathlib import Path

import click

from grader.cli.common import course_of


@click.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "canvas", "lms"]),
              default="csv", show_default=True,
              help="csv: a row per student; json: the full result records; canvas: Canvas's "
                   "gradebook import CSV; lms: columns laid out by --map.")
@click.option("--map", "column_map", type=click.Path(dir_okay=False, path_type=Path),
              help="With --format lms: a .toml or .csv column map (HEADER = roster field, "
                   "module:MODULE_ID or total).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of standard output.")
@click.option("--db", help="Gradebook SQLAlchemy URL (default: course.toml's, else grader.db).")
@click.pass_context
def export(ctx: click.Context, fmt: str, output: Path | None, db: str | None,
           column_map: Path | None) -> None:
    """Export the grades (read-only: creates no gradebook).

    \b
    grader export                      CSV: a row per student, a column per module, total
    grader export --format json -o F   the full result records, to the file F
    grader export --format canvas      Canvas's gradebook import (roster sis_id, login_id ...)
    grader export --format lms --map moodle.toml    any LMS's layout, by a column map
    (The framework package is built by `grader build`.)
    """
    from grader.gradebook.exports import export_grades
    course = course_of(ctx)
    export_grades(course, fmt=fmt, output=output, db_url=db, column_map=column_map)
