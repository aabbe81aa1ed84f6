"""`grader status`: per module, how far grading got.

submitted: folders submitted/*/MODULE; graded: results in the gradebook;
late: results with a positive `days_late` or late penalty; failed to run: status
error/invalid/missing, or any item that crashed.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from statistics import mean
from typing import Any

from rich import box
from rich.table import Table

from grader.course import Course
from grader.formatting import format_number, format_score
from grader.gradebook.store import Gradebook

FAILED_STATUSES = {"error", "invalid", "missing"}


@dataclass(frozen=True)
class StatusRow:
    module: str
    title: str
    due: datetime | None
    submitted: int
    graded: int
    mean_score: float | None
    max_score: float | None
    late: int
    failed: int

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["due"] = self.due.isoformat() if self.due else None
        return data


def failed_to_run(record: dict[str, Any]) -> bool:
    return (record.get("status") in FAILED_STATUSES
            or any(item.get("status") == "crashed" for item in record.get("items") or []))


def is_late(record: dict[str, Any]) -> bool:
    return float(record.get("days_late") or 0.0) > 0 or float(record.get("late_penalty") or 0.0) > 0


def status_rows(course: Course, gradebook: Gradebook) -> list[StatusRow]:
    by_module: dict[str, list[dict[str, Any]]] = {}
    for record in gradebook.results():
        by_module.setdefault(record["module"], []).append(record)
    rows = []
    for module in course.modules:
        records = by_module.get(module.id, [])
        submitted = (sum(1 for p in course.submitted_dir.glob(f"*/{module.id}") if p.is_dir())
                     if course.submitted_dir.is_dir() else 0)
        maxima = [float(r["max_score"]) for r in records if r.get("max_score")]
        rows.append(StatusRow(
            module=module.id, title=module.title, due=module.due, submitted=submitted,
            graded=len(records),
            mean_score=round(mean(float(r.get("score") or 0.0) for r in records), 2) if records else None,
            max_score=max(maxima) if maxima else None,
            late=sum(1 for r in records if is_late(r)),
            failed=sum(1 for r in records if failed_to_run(r)),
        ))
    return rows


def status_table(course: Course, rows: list[StatusRow]) -> Table:
    table = Table(title=f"{course.title}: grading status", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("module", no_wrap=True)
    table.add_column("title", overflow="ellipsis", max_width=22, no_wrap=True, style="dim")
    table.add_column("due", no_wrap=True)
    for name in ("submitted", "graded", "mean score", "late", "failed"):
        table.add_column(name, justify="right", no_wrap=True)
    for row in rows:
        score = format_number(row.mean_score)
        if row.mean_score is not None and row.max_score:
            score = format_score(row.mean_score, row.max_score)
        table.add_row(
            row.module, row.title,
            row.due.strftime("%Y-%m-%d") if row.due else "–",
            str(row.submitted),
            str(row.graded) if row.graded == row.submitted else f"[yellow]{row.graded}[/]",
            score,
            f"[yellow]{row.late}[/]" if row.late else "0",
            f"[red]{row.failed}[/]" if row.failed else "0",
        )
    table.caption = "failed = status error/invalid/missing or an item crashed; mean is after late penalties"
    table.caption_justify = "left"
    return table
