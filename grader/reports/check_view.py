"""How a self-check record (`grader check`) reads: plain text for a terminal, HTML for
a notebook.

Both come from one list of rows, so the terminal, `!grader check`, `grader.check()`
and `%grader check` say the same things. The text layout puts each item on a line
of its own (status, score, name) with its message wrapped underneath, so an
80-column terminal never squeezes a message into a narrow table column.
"""
from __future__ import annotations

import textwrap
from dataclasses import dataclass
from typing import Any

from grader.formatting import format_number, format_score

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


def item_rows(record: dict[str, Any]) -> list[Row]:
    rows = []
    for item in record.get("items") or []:
        score = item.get("score")
        if score is None and item.get("kind") == "test":
            score = 0.0
        message = str(item.get("message") or "")
        if item.get("status") == "passed" and item.get("kind") == "test":
            message = ""          # "all visible checks passed" says what the status says
        rows.append(Row(name=str(item.get("id")), kind=str(item.get("kind")),
                        status=str(item.get("status")), score=format_score(score, item.get("points")),
                        message=message, got=format_number(score),
                        of=format_number(item.get("points"))))
    return rows


def unit_rows(record: dict[str, Any]) -> list[Row]:
    return [Row(name=str(u.get("name")), kind="unit test", status=str(u.get("status")), score="",
                message="" if u.get("status") == "passed" else str(u.get("message") or ""))
            for u in record.get("unit_tests") or []]


def visible_score(record: dict[str, Any]) -> tuple[float, float]:
    tests = [i for i in record.get("items") or [] if i.get("kind") == "test"]
    return (sum(float(i.get("score") or 0.0) for i in tests),
            sum(float(i.get("points") or 0.0) for i in tests))


def isolation_summary(record: dict[str, Any]) -> str:
    isolation = record.get("isolation") or {}
    if not isolation:
        return ""
    missing = [k.replace("_", " ") for k, ok in (isolation.get("guarantees") or {}).items() if not ok]
    mode = isolation.get("mode") or "?"
    return (f"isolation: {mode}: every guarantee held" if not missing
            else f"isolation: {mode}: not guaranteed: {', '.join(missing)}")


def summary_line(record: dict[str, Any]) -> str:
    earned, possible = visible_score(record)
    return (f"visible tests: {format_score(earned, possible)} points (provisional; assessments "
            f"and hidden tests are graded after you submit) in "
            f"{format_number(record.get('duration_s') or 0)} s")


def passed_everything(record: dict[str, Any]) -> bool:
    return (all(r.status == "passed" for r in item_rows(record) if r.kind == "test")
            and all(r.status == "passed" for r in unit_rows(record)))


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


def text_lines(record: dict[str, Any], width: int = 80) -> list[tuple[str, str]]:
    """The whole report as (line, tone) pairs; tone is '' for lines without a status."""
    lines: list[tuple[str, str]] = [(f"{record.get('module')}: {record.get('notebook')}", "")]
    notices = record.get("notices") or []
    if notices:
        lines += [("", ""), ("Notices", "")]
        for notice in notices:
            where = f" in cell '{notice['cell']}'" if notice.get("cell") else ""
            lines.append((f"{INDENT}{notice.get('kind')}{where}", "warn"))
            lines += [(line, "") for line in wrap(str(notice.get("message") or ""), width)]
    lines += [("", ""), ("Graded items", "")]
    for row in item_rows(record):
        lines += row_lines(row, width)
    units = unit_rows(record)
    if units:
        lines += [("", ""), ("Unit tests (feedback only, no points)", "")]
        for row in units:
            lines += row_lines(row, width)
    lines += [("", "")]
    lines += [(line, "") for line in wrap(isolation_summary(record), width, indent="") if line]
    lines += [(line, "") for line in wrap(summary_line(record), width, indent="")]
    return lines


def render_text(record: dict[str, Any], width: int = 80) -> str:
    return "\n".join(line for line, _ in text_lines(record, width))


# -- HTML (a notebook's output area) -------------------------------------------------------

def render_html(record: dict[str, Any], *, checked: str = "") -> str:
    """A self-contained fragment whose styles are scoped to `.grader-check`, so they
    never restyle the rest of the notebook. `checked` says which file was read."""
    from grader.reports.env import package_env
    earned, possible = visible_score(record)
    return package_env().get_template("check.html").render(
        record=record, items=item_rows(record), units=unit_rows(record),
        notices=record.get("notices") or [], isolation=isolation_summary(record),
        earned=earned, possible=possible, all_passed=passed_everything(record),
        checked=checked)
