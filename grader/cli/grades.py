"""`grader status` and `grader report`: read the gradebook (never create or change it)."""
from __future__ import annotations

import json

import click
from rich.console import Console

from grader.cli.common import course_of, err, out

DB_HELP = "Gradebook SQLAlchemy URL (default: course.toml's [database] url, else grader.db)."


@click.command()
@click.option("--db", help=DB_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the rows as JSON instead of a table.")
@click.pass_context
def status(ctx: click.Context, db: str | None, as_json: bool) -> None:
    """Per module: submitted, graded, mean score, late, failed to run."""
    from grader.gradebook.status import status_notes, status_rows, status_table
    from grader.gradebook.store import open_gradebook

    course = course_of(ctx)
    with open_gradebook(db or course.db_url, read_only=True) as gradebook:
        rows = status_rows(course, gradebook)
    if as_json:
        click.echo(json.dumps([row.to_json() for row in rows], indent=2))
    else:
        # piped or redirected: do not squeeze the table into 80 columns
        console = out if out.is_terminal else Console(highlight=False, width=max(out.width, 120))
        console.print(status_table(course, rows))
        for note in status_notes(rows):
            console.print(note, markup=False, highlight=False)


@click.command()
@click.option("--db", help=DB_HELP)
@click.option("--no-feedback", is_flag=True,
              help="Do not rewrite the feedback pages (links only to pages that exist).")
@click.pass_context
def report(ctx: click.Context, db: str | None, no_feedback: bool) -> None:
    """Write the static HTML dashboard reports/index.html (and refresh feedback pages)."""
    from grader.gradebook.store import open_gradebook
    from grader.reports.dashboard import build_dashboard

    course = course_of(ctx)
    with open_gradebook(db or course.db_url, read_only=True) as gradebook:
        n = len(gradebook.results())
        path = build_dashboard(course, gradebook, write_feedback_pages=not no_feedback)
    err.print(f"dashboard for {n} result(s) written; open it in a browser:")
    out.print(str(path))
