"""How a self-check (`grader check`, a grader.result.Result with status `checked`) reads:
plain text for a terminal, HTML for a notebook.

Both come from one list of rows, so the terminal, `!grader check`, `grader.check()`
and `%grader check` say the same things. The text layout puts each item on a line
of its own (status, score, name) with its message wrapped underneath, so an
80-column terminal never squeezes a message into a narrow table column.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass

from grader.formatting import format_number, format_score
from grader.result import Result

STATUS_WIDTH = 9          # "answered", "timeout", "crashed" fit
SCORE_WIDTH = 5           # "12.5" of "12.5 / 25"
INDENT = "  "
MESSAGE_INDENT = "      "
GOOD = {"passed", "answered"}
TONES = {"passed": "ok", "answered": "ok", "partial": "warn", "manual": "info", "skipped": "muted"}


@dataclass
class Row:
    name: str
    kind: str             # test | assessment | manual | unit test
    status: str
    score: str            # "25 / 25", "– / 5"; "" for unit tests
    message: str          # "" when there is nothing to say
    got: str = ""         # the score's two halves, to line up the slashes in text
    of: str = ""

    @property
    def tone(self) -> str:
        return TONES.get(self.status, "bad")


def item_rows(result: Result) -> list[Row]:
    rows = []
    for item in result.items:
        # a test that did not pass shows 0; other items have no score before grading
        score = 0.0 if item.score is None and item.kind == "test" else item.score
        # "all visible checks passed" says what the status says
        message = "" if item.status == "passed" and item.kind == "test" else item.message
        rows.append(Row(name=item.id, kind=item.kind, status=item.status,
                        score=format_score(score, item.points), message=message,
                        got=format_number(score), of=format_number(item.points)))
    return rows


def unit_rows(result: Result) -> list[Row]:
    return [Row(name=u.name, kind="unit test", status=u.status, score="",
                message="" if u.status == "passed" else u.message)
            for u in result.unit_tests]


def visible_score(result: Result) -> tuple[float, float]:
    tests = [i for i in result.items if i.kind == "test"]
    return sum(i.score or 0.0 for i in tests), sum(i.points for i in tests)


def isolation_summary(result: Result) -> str:
    if result.isolation is None:
        return ""
    missing = [name.replace("_", " ") for name in result.isolation.missing]
    mode = result.isolation.mode
    return (f"isolation: {mode}: every guarantee held" if not missing
            else f"isolation: {mode}: not guaranteed: {', '.join(missing)}")


def summary_line(result: Result) -> str:
    earned, possible = visible_score(result)
    return (f"visible tests: {format_score(earned, possible)} points (provisional; assessments "
            f"and hidden tests are graded after you submit) in "
            f"{format_number(result.duration_s)} s")


def passed_everything(result: Result) -> bool:
    return (all(r.status == "passed" for r in item_rows(result) if r.kind == "test")
            and all(r.status == "passed" for r in unit_rows(result)))


# -- text ----------------------------------------------------------------------------------

def wrap(text: str, width: int, indent: str = MESSAGE_INDENT) -> list[str]:
    """Wrap a message under its row; long unbreakable words (paths) are broken too."""
    width = max(width, len(indent) + 20)
    return textwrap.wrap(" ".join(text.split()), width=width, initial_indent=indent,
                         subsequent_indent=indent, break_on_hyphens=False) or []


def row_lines(row: Row, width: int) -> list[tuple[str, str]]:
    """[(text, tone)]: the row's head line (tone colours the status) and its message."""
    head = f"{INDENT}{row.status:<{STATUS_WIDTH}} "
    if row.score:
        head += f"{row.got:>{SCORE_WIDTH}} / {row.of:<{SCORE_WIDTH}} "
    head += row.name + (f" ({row.kind})" if row.kind not in ("unit test",) else "")
    return [(head, row.tone)] + [(line, "") for line in wrap(row.message, width)]


def text_lines(result: Result, width: int = 80) -> list[tuple[str, str]]:
    """The whole report as (line, tone) pairs; tone is '' for lines without a status."""
    lines: list[tuple[str, str]] = [(f"{result.module}: {result.notebook}", "")]
    if result.notices:
        lines += [("", ""), ("Notices", "")]
        for notice in result.notices:
            where = f" in cell '{notice.cell}'" if notice.cell else ""
            lines.append((f"{INDENT}{notice.kind}{where}", "warn"))
            lines += [(line, "") for line in wrap(notice.message, width)]
    lines += [("", ""), ("Graded items", "")]
    for row in item_rows(result):
        lines += row_lines(row, width)
    units = unit_rows(result)
    if units:
        lines += [("", ""), ("Unit tests (feedback only, no points)", "")]
        for row in units:
            lines += row_lines(row, width)
    lines += [("", "")]
    lines += [(line, "") for line in wrap(isolation_summary(result), width, indent="") if line]
    lines += [(line, "") for line in wrap(summary_line(result), width, indent="")]
    return lines


def render_text(result: Result, width: int = 80) -> str:
    return "\n".join(line for line, _ in text_lines(result, width))


# -- HTML (a notebook's output area) -------------------------------------------------------

def render_html(result: Result, *, checked: str = "") -> str:
    """A self-contained fragment whose styles are scoped to `.grader-check`, so they
    never restyle the rest of the notebook. `checked` says which file was read."""
    from grader.reports.env import package_env
    earned, possible = visible_score(result)
    return package_env().get_template("check.html").render(
        record=result, items=item_rows(result), units=unit_rows(result),
        notices=result.notices, isolation=isolation_summary(result),
        earned=earned, possible=possible, all_passed=passed_everything(result),
        checked=checked)
