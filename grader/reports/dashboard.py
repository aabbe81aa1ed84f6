"""`grader report`: the static dashboard reports/index.html.

Per module: a score histogram and per-item pass rates (inline SVG), the most
common failure messages per item with how many students got them, and a
student x module table linking to each feedback page (relative links, so the
folder can be copied or served anywhere).
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean, median
from typing import Any
from urllib.parse import quote

from markupsafe import Markup

from grader.course import Course, now_utc
from grader.gradebook.cohort import counts, roster_ids
from grader.gradebook.status import notebook_means, status_rows
from grader.gradebook.store import Gradebook
from grader.reports.env import STATUS_LABELS, template_env
from grader.reports.feedback import feedback_path, write_feedback, write_html
from grader.reports.charts import RateRow, histogram, pass_rates
from grader.result import Result

DASHBOARD_TEMPLATE = "dashboard.html"
TOP_FAILURES = 5
NOT_FAILURES = {"passed", "manual"}


@dataclass
class ItemSummary:
    id: str
    kind: str
    points: float
    passed: int = 0
    partial: int = 0
    failed: int = 0
    manual: int = 0
    mean_score: float | None = None
    failures: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + self.partial + self.failed + self.manual


@dataclass
class ModuleView:
    id: str
    title: str
    due: Any
    n: int
    max_score: float
    mean_score: float | None
    median_score: float | None
    late: int
    failed: int
    histogram: Markup | None
    pass_rates: Markup | None
    items: list[ItemSummary]
    needs_manual: int = 0                 # answers waiting for a manual grade
    notebooks: list[tuple[str, float | None, float]] = field(default_factory=list)


def _summarise_items(records: list[Result]) -> list[ItemSummary]:
    summaries: dict[str, ItemSummary] = {}
    messages: dict[str, Counter[str]] = {}
    scores: dict[str, list[float]] = {}
    for record in records:
        several = len(record.notebooks or []) > 1
        for item in record.items:
            item_id = item.id
            if several:      # grade_ids may repeat across the notebooks of an assignment
                item_id = f"{(item.notebook or '').removesuffix('.ipynb')}/{item_id}"
            summary = summaries.setdefault(item_id, ItemSummary(
                id=item_id, kind=item.kind, points=float(item.points)))
            if item.status == "passed":
                summary.passed += 1
            elif item.status == "partial":
                summary.partial += 1
            elif item.status == "manual":
                summary.manual += 1
            else:
                summary.failed += 1
            scores.setdefault(item_id, []).append(float(item.score or 0.0))
            if item.status not in NOT_FAILURES:
                message = item.message.strip() or STATUS_LABELS.get(item.status, item.status)
                messages.setdefault(item_id, Counter())[message] += 1
    for item_id, summary in summaries.items():
        summary.mean_score = mean(scores[item_id]) if scores.get(item_id) else None
        summary.failures = messages.get(item_id, Counter()).most_common(TOP_FAILURES)
    return list(summaries.values())


def _module_summaries(course: Course, records: list[Result]) -> list[ModuleView]:
    by_module: dict[str, list[Result]] = {}
    for record in records:
        by_module.setdefault(record.module, []).append(record)
    summaries = []
    roster = roster_ids(course)
    for module in course.modules:
        theirs = by_module.get(module.id, [])
        # means and medians count the class only: not off-roster accounts, not withdrawn
        counted = [r for r in theirs if counts(course, roster, r.student or "", r.module)]
        scores = [float(r.score) for r in counted]
        max_score = max((float(r.max_score) for r in theirs), default=0.0)
        items = _summarise_items(theirs)
        summaries.append(ModuleView(
            id=module.id, title=module.title, due=module.due, n=len(theirs), max_score=max_score,
            mean_score=mean(scores) if scores else None,
            median_score=median(scores) if scores else None,
            late=sum(1 for r in theirs if r.late), failed=sum(1 for r in theirs if r.failed_to_run),
            histogram=histogram(scores, max_score, title=f"{module.title}: score distribution")
            if theirs else None,
            pass_rates=pass_rates([RateRow(i.id, i.passed, i.partial, i.failed, i.manual) for i in items],
                                  title=f"{module.title}: results per item") if items else None,
            items=items,
            needs_manual=sum(1 for r in theirs for i in r.items if i.status == "manual"),
            notebooks=notebook_means(theirs, counted),
        ))
    return summaries


def _href(from_dir: Path, target: Path) -> str:
    rel = Path(os.path.relpath(target, from_dir))
    return "/".join(quote(part) for part in rel.parts)


def _student_rows(course: Course, records: list[Result],
                  module_ids: list[str]) -> list[dict[str, Any]]:
    by_student: dict[str, dict[str, Result]] = {}
    for record in records:
        by_student.setdefault(record.student or "", {})[record.module] = record
    roster = course.roster()
    listed = {s.id for s in roster}
    people = [(s.id, s.name, True) for s in roster]
    people += [(sid, "", False) for sid in sorted(set(by_student) - listed)]
    rows = []
    for sid, name, on_roster in people:
        cells = []
        for module_id in module_ids:
            record = by_student.get(sid, {}).get(module_id)
            if record is None:
                cells.append(None)
                continue
            page = feedback_path(course, record)
            cells.append({
                "score": float(record.score), "max_score": float(record.max_score),
                "status": record.status, "late": record.late, "failed": record.failed_to_run,
                "href": _href(course.reports_dir, page) if page.is_file() else None,
            })
        total = sum(float(r.score) for r in by_student.get(sid, {}).values())
        rows.append({"id": sid, "name": name, "on_roster": on_roster, "cells": cells,
                     "total": total if by_student.get(sid) else None})
    return rows


# instructors' pages written by other commands, linked when present: folder -> label
TOOL_PAGES = {"mutants": "weak tests (grader mutants)",
              "similarity": "similar solutions (grader similarity)"}


def _tool_pages(course: Course) -> list[dict[str, str]]:
    """Links to reports/mutants/MODULE.html and reports/similarity/MODULE.html."""
    titles = {m.id: m.title for m in course.modules}
    pages = []
    for folder, label in TOOL_PAGES.items():
        for page in sorted((course.reports_dir / folder).glob("*.html")):
            pages.append({"href": _href(course.reports_dir, page), "label": label,
                          "module": page.stem, "title": titles.get(page.stem, page.stem)})
    return pages


def build_dashboard(course: Course, gradebook: Gradebook, *, write_feedback_pages: bool = True) -> Path:
    """Write reports/index.html and return its path.

    With write_feedback_pages (the default) every stored result's feedback page is
    (re)written first, so each link in the student table resolves.
    """
    records = gradebook.results()
    modules = _module_summaries(course, records)
    # the student table shows the modules that have results (all of them before any)
    shown = [m.id for m in modules if m.n] or [m.id for m in course.modules]
    env = template_env(course)
    if write_feedback_pages:
        names = {s.id: s.name for s in course.roster()}
        for record in records:
            write_feedback(course, record, env=env, student_name=names.get(record.student or "", ""))
    html = env.get_template(DASHBOARD_TEMPLATE).render(
        course={"id": course.id, "title": course.title},
        generated_at=now_utc(),
        status=status_rows(course, gradebook),
        modules=modules,
        module_ids=shown,
        module_titles={m.id: m.title for m in course.modules},
        students=_student_rows(course, records, shown),
        n_results=len(records),
        tool_pages=_tool_pages(course),
    )
    return write_html(course.reports_dir / "index.html", html)
