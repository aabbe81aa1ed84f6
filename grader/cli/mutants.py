"""`grader mutants MODULE`: which edits of the reference the tests do not notice."""
from __future__ import annotations

import json

import click
from rich.table import Table

from grader.cli.common import course_of, err


def summary_table(report: dict) -> Table:
    table = Table(title=f"mutants of {report['module']}: {report['killed']}/{report['graded']} "
                        f"killed ({report['generated']} possible, seed {report['seed']})",
                  title_justify="left")
    for column in ("item", "kind", "points", "mutants", "killed", "survived", "score"):
        table.add_column(column, justify="left" if column in ("item", "kind") else "right")
    for item in report["items"]:
        if item["skipped"]:
            table.add_row(item["id"], item["kind"], f"{item['points']:g}", "–", "–", "–",
                          "[yellow]not checked[/]")
            continue
        score = "–" if item["score"] is None else f"{item['score']:.0%}"
        survived = len(item["survivors"])
        table.add_row(item["id"], item["kind"], f"{item['points']:g}", str(item["mutants"]),
                      str(item["killed"]), f"[red]{survived}[/]" if survived else "0", score)
    return table


@click.command()
@click.argument("module")
@click.option("--max", "max_mutants", type=click.IntRange(1, None),
              help="Grade at most N mutants, spread over the functions (default: course.toml "
                   "[mutants] max, else 60).")
@click.option("--workers", type=click.IntRange(1, 64), help="Parallel engines (default: cores).")
@click.option("--seed", type=int, help="Which mutants a limited run picks (default 0).")
@click.option("--timeout", type=click.FloatRange(0, None, min_open=True),
              help="Seconds per cell and per graded call of a mutant (default 10).")
@click.option("--mutant", "only", multiple=True, metavar="ID",
              help="Grade this mutant first, picked by the sample or not (an id from --json); "
                   "repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the full report as JSON on stdout.")
@click.pass_context
def mutants(ctx: click.Context, module: str, max_mutants: int | None, workers: int | None,
            seed: int | None, timeout: float | None, only: tuple[str, ...], as_json: bool) -> None:
    """Mutate the reference solution and grade every mutant: mutants that still earn
    full marks show where a locked test is weak.

    Edits only the code between ### BEGIN SOLUTION and ### END SOLUTION: arithmetic
    and comparison operators swapped, constants changed, a returned, assigned or
    passed value replaced by 0, a statement deleted. Prints a summary table (stderr),
    each surviving mutant as FILE:LINE with a one-line diff, and writes
    reports/mutants/MODULE.html. Exit 0 (the report is the result).
    """
    from grader.mutants.run import run_mutants
    from grader.mutants.settings import mutant_settings
    from grader.reports.mutants_page import write_mutants_page

    course = course_of(ctx)
    course.module(module)
    settings = mutant_settings(course)
    with err.status(f"grading mutants of {module}...") as status:
        report = run_mutants(
            course, module, max_mutants=max_mutants or settings.max, workers=workers,
            seed=settings.seed if seed is None else seed,
            timeout_s=timeout or settings.timeout_s, only=list(only),
            on_progress=lambda done, total: status.update(
                f"grading mutants of {module}: {done}/{total}"))
    data = report.as_dict()
    page = write_mutants_page(course, data)
    err.print(summary_table(data))
    for item in data["items"]:
        for m in item["survivors"]:
            err.print(f"{m['where']}: survives {item['id']}: {m['diff']}", markup=False,
                      highlight=False, soft_wrap=True)
    broken = [m for m in data["mutants"] if m["harness_error"]]
    if broken:
        err.print(f"{len(broken)} mutant(s) could not be graded (a grader error, not counted): "
                  f"{broken[0]['id']}: {broken[0]['harness_error']}", style="yellow",
                  markup=False, highlight=False)
    err.print(f"mutation score {data['score']:.0%} in {data['duration_s']:.0f} s; page: {page}"
              if data["score"] is not None else f"no mutants graded; page: {page}")
    if as_json:
        click.echo(json.dumps(data, indent=1))
