"""The dashboard's page for `grader similarity`: reports/similarity/MODULE.html (+ .json)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.course import Course, now_utc
from grader.reports.env import template_env
from grader.reports.feedback import write_html

SIMILARITY_TEMPLATE = "similarity.html"


def write_similarity_page(course: Course, report: dict[str, Any]) -> Path:
    folder = course.reports_dir / "similarity"
    title = next((m.title for m in course.modules if m.id == report["module"]), report["module"])
    names = {s.id: s.name for s in course.roster()}
    html = template_env(course).get_template(SIMILARITY_TEMPLATE).render(
        course={"id": course.id, "title": course.title}, module_title=title,
        generated_at=now_utc(), report=report, names=names)
    write_html(folder / f"{report['module']}.json", json.dumps(report, indent=1) + "\n")
    return write_html(folder / f"{report['module']}.html", html)
