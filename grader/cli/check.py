from __future__ import annotations

import json
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from grader.cli.common import err, out

STYLE = {"passed": "green", "answered": "green", "partial": "yellow", "manual": "cyan",
         "failed": "red", "error": "red", "timeout": "red", "crashed": "red", "missing": "red"}


@click.command()
@click.argument("notebook", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result record as JSON.")
@click.option("--timeout", type=float, help="Seconds per cell (default: the course's, or 30).")
@click.pass_context
def check(ctx: click.Context, notebook: Path, as_json: bool, timeout: float | None) -> None:
    """Self-check a notebook before submitting it.

    Runs NOTEBOOK in an isolated kernel, then the module's visible tests, unit tests
    and assessment functions. Assessments are only checked for the shape of the
    answer; their values are graded after submission. Exit 0 when every visible
    test passes, 1 otherwise.
    """
    from grader.check import check_notebook

    if not as_json:
        err.print(f"checking {notebook} …")
    report = check_notebook(notebook.resolve(), course_root=ctx.find_root().obj,
                            timeout_s=timeout)
    record = report.record
    if as_json:
        click.echo(json.dumps(record, indent=2))
    else:
        print_report(record)
    ctx.exit(0 if report.all_visible_tests_pass else 1)


def print_report(record: dict) -> None:
    table = Table(title=f"{record['module']}: {record['notebook']}", title_justify="left")
    for column in ("item", "kind", "points", "status"):
        table.add_column(column, no_wrap=True)
    table.add_column("message", overflow="fold")
    for item in record["items"]:
        style = STYLE.get(item["status"], "")
        points = f"{item['score']:g}/{item['points']:g}" if item["score"] is not None \
            else f"–/{item['points']:g}"
        table.add_row(escape(item["id"]), item["kind"], points,
                      f"[{style}]{item['status']}[/]", escape(item["message"]))
    out.print(table)
    if record["unit_tests"]:
        units = Table(title="unit tests (no points)", title_justify="left")
        units.add_column("test")
        units.add_column("status")
        units.add_column("message", overflow="fold")
        for unit in record["unit_tests"]:
            style = STYLE.get(unit["status"], "")
            units.add_row(escape(unit["name"]), f"[{style}]{unit['status']}[/]",
                          "" if unit["status"] == "passed" else escape(unit["message"]))
        out.print(units)
    for notice in record["notices"]:
        out.print(f"[yellow]notice[/] ({notice['kind']}): {escape(notice['message'])}")
    isolation = record.get("isolation") or {}
    missing = [k for k, ok in isolation.get("guarantees", {}).items() if not ok]
    out.print(f"isolation: {isolation.get('mode', '?')} — "
              + ("every guarantee held" if not missing else f"not guaranteed: {', '.join(missing)}"))
    tests = [i for i in record["items"] if i["kind"] == "test"]
    earned = sum(i["score"] or 0 for i in tests)
    possible = sum(i["points"] for i in tests)
    out.print(f"visible tests: {earned:g}/{possible:g} points (provisional; assessments and "
              f"hidden tests are graded after you submit) in {record['duration_s']:.2f}s")
