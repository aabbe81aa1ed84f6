from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
from rich.text import Text

from grader.cli.common import err, out
from grader.result import Result

TONE_STYLE = {"ok": "green", "warn": "yellow", "info": "cyan", "bad": "red", "muted": "dim"}


@click.command()
@click.argument("notebook", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the result record as JSON.")
@click.option("--timeout", type=click.FloatRange(min=0.1), help="Seconds per cell (default: the course's, or 30).")
@click.pass_context
def check(ctx: click.Context, notebook: Path, as_json: bool, timeout: float | None) -> None:
    """Self-check a notebook before submitting it.

    Runs NOTEBOOK in an isolated kernel, then the module's visible tests, unit tests
    and assessment functions. Assessments are only checked for the shape of the
    answer; their values are graded after submission. Exit 0 when every visible
    test passes, 1 otherwise.

    Inside a notebook that is being checked (`!grader check` in one of its cells)
    it does nothing and exits 0, so a check never runs itself again.
    """
    from grader.notebook import SKIPPED, inside_self_check

    if inside_self_check():
        err.print(f"grader check: {SKIPPED}")
        ctx.exit(0)
    from grader.check import check_notebook

    if not as_json:
        err.print(f"checking {notebook} …")
    report = check_notebook(notebook.resolve(), course_root=ctx.find_root().obj,
                            timeout_s=timeout)
    if as_json:
        click.echo(json.dumps(report.record, indent=2))
    else:
        print_report(report.result)
    ctx.exit(0 if report.all_visible_tests_pass else 1)


def print_report(result: Result) -> None:
    """One line per item (status, score, name) with its message wrapped below it, at
    the terminal's width (COLUMNS, else 88 when piped: `!grader check` in Jupyter)."""
    from grader.reports.check_view import text_lines

    width = shutil.get_terminal_size((88, 24)).columns
    for line, tone in text_lines(result, width=width):
        text = Text(line)
        if tone:      # colour the status word (the head line's first word)
            start = len(line) - len(line.lstrip())
            text.stylize(TONE_STYLE.get(tone, ""), start, start + len(line.split()[0]))
        out.print(text, soft_wrap=True)
