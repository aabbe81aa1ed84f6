from __future__ import annotations

from pathlib import Path

import click

from grader.cli.common import course_of, err, out


@click.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]),
              help="Export GRADES in this format instead of building the framework.")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path),
              help="With --format: write here instead of standard output.")
@click.option("--db", help="With --format: gradebook SQLAlchemy URL (default: course.toml's).")
@click.option("--force", is_flag=True, help="Rebuild the framework even if no source changed.")
@click.pass_context
def export(ctx: click.Context, fmt: str | None, output: Path | None, db: str | None,
           force: bool) -> None:
    """Build the framework package, or (with --format) export the grades.

    \b
    grader export                      build/framework/<package> from the #| export cells
    grader export --format csv         one row per student, a column per module, total
    grader export --format json -o F   the full result records
    """
    course = course_of(ctx)
    if fmt is None:
        if output or db:
            raise click.UsageError("--output and --db go with --format (grades export)")
        from grader.export import build
        result = build(course, force=force)
        rel = result.path.relative_to(course.root)
        state = "built" if result.rebuilt else "up to date"
        out.print(f"{rel}/{course.framework}: {state} ({len(result.modules)} modules)")
        err.print(f"use it with: PYTHONPATH={result.path} python -c 'import {course.framework}'")
        return
    from grader.gradebook.exports import export_grades
    export_grades(course, fmt=fmt, output=output, db_url=db)
