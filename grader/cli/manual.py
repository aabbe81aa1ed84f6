"""`grader manual export|import`: manual scores and comments as CSV, for bulk work."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.cli.common import course_of, err

DB_HELP = "Gradebook SQLAlchemy URL (default: course.toml's [database] url, else grader.db)."


@click.group()
def manual() -> None:
    """Manual grades as CSV (student, assignment, notebook, item, score, comment)."""


@manual.command("export")
@click.argument("assignment")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here instead of standard output.")
@click.option("--db", help=DB_HELP)
@click.pass_context
def export_(ctx: click.Context, assignment: str, output: Path | None, db: str | None) -> None:
    """Every item of ASSIGNMENT that needs (or got) a manual grade, one row each; fill
    in score and comment, then `grader manual import`."""
    from grader.gradebook.manual import export_csv
    from grader.gradebook.store import open_gradebook
    course = course_of(ctx)
    course.module(assignment)
    with open_gradebook(db or course.db_url) as gradebook:
        text = export_csv(gradebook, assignment)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        err.print(f"wrote {output} ({text.count(chr(10)) - 1} row(s))")


@manual.command("import")
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--db", help=DB_HELP)
@click.pass_context
def import_(ctx: click.Context, csv_file: Path, db: str | None) -> None:
    """Import manual grades. Scores must lie between 0 and the item's points; a score
    for an autograded item overrides it, with the comment as the reason. Any bad row
    is reported as FILE:LINE and nothing is imported (exit 1)."""
    from grader.gradebook.manual import import_csv
    from grader.gradebook.store import open_gradebook
    course = course_of(ctx)
    with open_gradebook(db or course.db_url) as gradebook:
        count, errors = import_csv(course, gradebook, csv_file)
    for error in errors:
        click.echo(error, err=True)
    if errors:
        click.echo(f"grader: {len(errors)} bad row(s): nothing imported", err=True)
        ctx.exit(1)
    err.print(f"imported {count} manual grade(s)")
