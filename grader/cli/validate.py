from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from grader.cli.common import course_of, err, module_ids, out


@click.command()
@click.argument("modules", nargs=-1)
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a JUnit XML report here (one testsuite per module).")
@click.option("--mutants", is_flag=True,
              help="Also grade mutants of each reference: fail when an item's mutation score "
                   "is below course.toml's [mutants] min_score.")
@click.pass_context
def validate(ctx: click.Context, modules: tuple[str, ...], junit: Path | None,
             mutants: bool) -> None:
    """Check the reference solutions, for a course's CI.

    Per module, in course order: lint; export of the framework up to it; the
    reference earns full marks and passes its unit tests; the untouched release
    earns zero on every item; two reference runs agree; release/ is fresh; with
    --mutants, each item kills at least [mutants] min_score of the reference's
    mutants (course.toml; `grader mutants` lists the survivors). Each
    problem prints as FILE:LINE: module: message. Exit 1 on any problem.
    """
    from grader.validate import (CHECKS, MUTANT_CHECK, in_course_order, junit_xml,
                                 validate as run_validate)

    course = course_of(ctx)
    ids = in_course_order(course, module_ids(course, modules))

    def on_check(outcome) -> None:
        for problem in outcome.problems:
            out.print(str(problem), markup=False)
        state = "skipped" if outcome.skipped else "ok" if outcome.ok else "FAILED"
        err.print(f"  {outcome.module:<18} {outcome.check:<12} {state}")

    outcomes = run_validate(course, ids, on_check=on_check, mutants=mutants)
    checks = (*CHECKS, MUTANT_CHECK) if mutants else CHECKS
    if junit:
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_text(junit_xml(course, outcomes), encoding="utf-8")
    table = Table(title="validate", title_justify="left")
    table.add_column("module")
    for check in checks:
        table.add_column(check)
    for module_id in ids:
        row = []
        for check in checks:
            o = next((o for o in outcomes if o.module == module_id and o.check == check), None)
            row.append("–" if o is None else "skip" if o.skipped else
                       "[green]ok[/]" if o.ok else f"[red]{len(o.problems)}[/]")
        table.add_row(module_id, *row)
    err.print(table)
    problems = sum(len(o.problems) for o in outcomes)
    if problems:
        err.print(f"[red]{problems} problem(s)[/]")
        ctx.exit(1)
    err.print("[green]all checks passed[/]")
