from __future__ import annotations

import sys

import click

from grader.cli.common import course_of, err, module_ids, out


@click.command()
@click.argument("modules", nargs=-1)
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if release/ differs from what would be written.")
@click.pass_context
def release(ctx: click.Context, modules: tuple[str, ...], check: bool) -> None:
    """Generate the student notebooks release/NN_name/<stem>.ipynb.

    Lints the sources first and refuses (exit 2, nothing written) on any error.
    Solutions and hidden tests are stripped and cells locked with nbgrader's
    preprocessors, and the result is checked for anything that looks like a marker
    or a line of a marked region before it is written; the notebook records the course, module and the shape (not the
    values) of each assessment's reference answer. MODULES default to all.
    """
    from grader.harness.session import answer_shapes_for
    from grader.release import release as run_release

    from grader.lint.command import refuse_on_errors

    course = course_of(ctx)
    wanted = module_ids(course, modules)
    refuse_on_errors(course=course.root, module_ids=wanted, command="release")
    results = run_release(course, wanted, check=check,
                          shapes_for=lambda m: answer_shapes_for(course, m))
    stale = [r for r in results if r.changed]
    for r in results:
        rel = r.path.relative_to(course.root)
        if check:
            out.print(f"{rel}: {'STALE' if r.changed else 'up to date'}")
            if r.changed:
                sys.stdout.write(r.diff[:4000])
        else:
            out.print(f"{rel}: {'written' if r.changed else 'unchanged'}")
    if check and stale:
        err.print(f"{len(stale)} release notebook(s) are stale: run `grader release`")
        ctx.exit(1)
