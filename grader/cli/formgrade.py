"""`grader formgrade`: the manual-grading web app, on 127.0.0.1 with an access token."""
from __future__ import annotations

import click

from grader.cli.common import course_of, err

DB_HELP = "Gradebook SQLAlchemy URL (default: course.toml's [database] url, else grader.db)."


@click.command()
@click.option("--port", type=int, default=0, show_default=True,
              help="Port on 127.0.0.1 (0: any free port).")
@click.option("--db", help=DB_HELP)
@click.pass_context
def formgrade(ctx: click.Context, port: int, db: str | None) -> None:
    """Grade by hand in the browser: per assignment and item, the submissions that need
    it, each answer rendered beside a score and a comment, saved as you type. Prints
    the address with a random access token (as Jupyter does); Ctrl-C stops it."""
    from grader.formgrade.app import serve
    from grader.gradebook.store import open_gradebook
    course = course_of(ctx)
    with open_gradebook(db or course.db_url) as gradebook:
        serve(course, gradebook, port=port,
              announce=lambda line: (click.echo(line), err.print(
                  "open it in a browser on this machine; Ctrl-C stops the server")))
