from __future__ import annotations

import click

from grader.cli.common import course_of, err, out


@click.command()
@click.option("--force", is_flag=True, help="Rebuild even if no source changed.")
@click.pass_context
def build(ctx: click.Context, force: bool) -> None:
    """Build the framework package from the sources' `#| export` cells.

    Writes build/framework/<package> (course.toml's [course] framework) from every
    module in course order; rebuilt only when a source changed. Students make it
    importable with PYTHONPATH (or install it) to run `grader check`.
    """
    from grader.export import build as build_framework

    course = course_of(ctx)
    result = build_framework(course, force=force)
    rel = result.path.relative_to(course.root)
    state = "built" if result.rebuilt else "up to date"
    out.print(f"{rel}/{course.framework}: {state} ({len(result.modules)} modules)")
    err.print(f"use it with: PYTHONPATH={result.path} python -c 'import {course.framework}'")
