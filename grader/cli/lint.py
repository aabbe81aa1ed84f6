"""`grader lint [MODULE|FILE...] [--fix]`: check instructor sources (see grader.lint)."""
from __future__ import annotations

from pathlib import Path

import click

from grader.errors import ConfigError
from grader.lint.command import find_sources, main


@click.command("lint")
@click.argument("targets", nargs=-1, metavar="[MODULE|FILE]...")
@click.option("--fix", is_flag=True,
              help="Rewrite mechanical metadata problems in .py sources in place, then lint again.")
@click.pass_obj
def lint(course: Path, targets: tuple[str, ...], fix: bool) -> None:
    """Check nbgrader metadata, ids, points, markers, syntax and export directives.

    MODULE is a folder under <course>/source/ (e.g. 09_training); FILE is any .py
    or .ipynb path. With no arguments, every source of every module. Prints
    FILE:LINE: severity: CODE message (fix: ...); exit 1 when there are errors.
    """
    try:
        paths = find_sources(course=course, targets=targets)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from None
    raise SystemExit(main(paths=paths, fix=fix))
