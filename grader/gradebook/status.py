"""`grader status`: per module, how far grading got.

submitted: folders submitted/*/MODULE; graded: results in the gradebook whose
submission is still there; withdrawn: results whose submission folder is gone; late:
results with a positive `days_late` or late penalty; failed to run: status
error/invalid/missing, or any item that crashed. The mean leaves out students not on
the roster (listed in `off_roster`) and withdrawn results (grader/gradebook/cohort.py).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from statistics import mean
from typing import Any

from rich import box
from rich.table import Table

from grader.course import Course
from grader.gradebook.cohort import on_roster, roster_ids, submission_gone
from grader.formatting import format_number, format_score
from grader.gradebook.store import Gradebook
from grader.result import Result


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
    withdrawn: tuple[str, ...] = ()       # students whose submission folder is gone
    off_roster: tuple[str, ...] = ()      # graded students not on the roster (not in the mean)
    needs_manual: int = 0                 # items waiting for a manual grade
    # an assignment of several notebooks: (notebook, mean score, max score) of each
    notebooks: tuple[tuple[str, float | None, float], ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["due"] = self.due.isoformat() if self.due else None
        return data


def status_rows(course: Course, gradebook: Gradebook) -> list[StatusRow]:
    by_module: dict[str, list[Result]] = {}
    for result in gradebook.results():
        by_module.setdefault(result.module, []).append(result)
    roster = roster_ids(course)
    rows = []
    for module in course.modules:
        everything = by_module.get(module.id, [])
        withdrawn = tuple(sorted(r.student for r in everything
                                 if submission_gone(course, r.student, r.module)))
        records = [r for r in everything if r.student not in withdrawn]
        counted = [r.score for r in records if on_roster(roster, r.student)]
        submitted = (sum(1 for p in course.submitted_dir.glob(f"*/{module.id}") if p.is_dir())
                     if course.submitted_dir.is_dir() else 0)
        maxima = [r.max_score for r in records if r.max_score]
        rows.append(StatusRow(
            module=module.id, title=module.title, due=module.due, submitted=submitted,
            graded=len(records),
            mean_score=round(mean(counted), 2) if counted else None,
            max_score=max(maxima) if maxima else None,
            late=sum(1 for r in records if r.late),
            failed=sum(1 for r in records if r.failed_to_run),
            withdrawn=withdrawn,
            off_roster=tuple(sorted(r.student for r in records
                                    if not on_roster(roster, r.student))),
            needs_manual=sum(1 for r in records for i in r.items if i.status == "manual"),
            notebooks=tuple((name, round(part_mean, 2) if part_mean is not None else None,
                             part_max)
                            for name, part_mean, part_max in notebook_means(
                                records, [r for r in records if on_roster(roster, r.student)])),
        ))
    return rows


def notebook_means(records: list[Result], counted: list[Result]
                   ) -> list[tuple[str, float | None, float]]:
    """(notebook, mean score over `counted`, max score) for each notebook of an assignment
    of several (status and the dashboard)."""
    counted_ids = {id(record) for record in counted}
    parts: dict[str, list[float]] = {}
    maxima: dict[str, float] = {}
    for record in records:
        if len(record.notebooks or []) < 2:
            continue
        for part in record.notebooks or []:
            scores = parts.setdefault(part.notebook, [])
            maxima[part.notebook] = float(part.max_score)
            if id(record) in counted_ids:
                scores.append(float(part.score))
    return [(name, mean(scores) if scores else None, maxima[name])
            for name, scores in parts.items()]


def status_table(course: Course, rows: list[StatusRow]) -> Table:
    table = Table(title=f"{course.title}: grading status", title_justify="left",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("module", no_wrap=True)
    table.add_column("title", overflow="ellipsis", max_width=22, no_wrap=True, style="dim")
    table.add_column("due", no_wrap=True)
    for name in ("submitted", "graded", "mean score", "late", "failed", "needs manual",
                 "withdrawn", "not on roster"):
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
            f"[cyan]{row.needs_manual}[/]" if row.needs_manual else "0",
            f"[yellow]{len(row.withdrawn)}[/]" if row.withdrawn else "0",
            f"[yellow]{len(row.off_roster)}[/]" if row.off_roster else "0",
        )
        for name, part_mean, part_max in row.notebooks:
            table.add_row(f"  {name}", "", "", "", "",
                          format_score(part_mean, part_max) if part_mean is not None else "–",
                          "", "", "", "", "")
    table.caption = ("failed = status error/invalid/missing or an item crashed; needs manual = "
                     "items waiting for `grader formgrade` or `grader manual import`; mean is after "
                     "late penalties, of roster students only; withdrawn = graded, but the "
                     "submission folder is gone")
    table.caption_justify = "left"
    return table


def status_notes(rows: list[StatusRow]) -> list[str]:
    """One line per module with students not on the roster or withdrawn results, by name."""
    notes = []
    for row in rows:
        if row.off_roster:
            notes.append(f"{row.module}: not on the roster (graded, left out of the mean): "
                         f"{', '.join(row.off_roster)}")
        if row.withdrawn:
            notes.append(f"{row.module}: withdrawn (graded, but the submission folder is gone; "
                         f"`grader autograde {row.module} --prune` removes the results): "
                         f"{', '.join(row.withdrawn)}")
    return notes
