"""`grader similarity MODULE`: pairs of students whose answers are alike (reports only)."""
from __future__ import annotations

import json

import click
from rich.table import Table

from grader.cli.common import course_of, err


@click.command()
@click.argument("module")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.6, show_default=True,
              help="Report pairs whose share of common fingerprints reaches this.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
@click.pass_context
def similarity(ctx: click.Context, module: str, threshold: float, as_json: bool) -> None:
    """Compare the students' answer code pairwise and write reports/similarity/MODULE.html.

    Only the answer (solution) cells count, without the release's given code;
    identifiers, literals, layout and comments are normalized. Copies of the reference
    solution are flagged too. Changes no grade. Exit 0.
    """
    from grader.reports.similarity_page import write_similarity_page
    from grader.similarity.run import run_similarity

    course = course_of(ctx)
    course.module(module)
    data = run_similarity(course, module, threshold=threshold).as_dict()
    page = write_similarity_page(course, data)
    err.print(f"{module}: {data['students']} submissions compared, {len(data['pairs'])} "
              f"pair(s) at {threshold:.0%} or more", markup=False, highlight=False)
    if data["pairs"]:
        table = Table(title=f"similar answers in {module}", title_justify="left")
        for column in ("first", "second", "score", "shared"):
            table.add_column(column, justify="right" if column in ("score", "shared") else "left")
        for pair in data["pairs"]:
            table.add_row(pair["a"], pair["b"], f"{pair['score']:.0%}", str(pair["shared"]))
        err.print(table)
    for match in data["reference"]:
        kind = "exact copy of" if match["exact"] else "similar to"
        err.print(f"{match['student']}: {kind} the reference ({match['score']:.0%})",
                  markup=False, highlight=False)
    err.print(f"page: {page}", markup=False, highlight=False)
    if as_json:
        click.echo(json.dumps(data, indent=1))
