"""The dashboard's page for `grader mutants`: reports/mutants/MODULE.html (+ .json).

The JSON beside the page is the same as `grader mutants --json` prints, so the
dashboard (and CI artefacts) can read the last run without grading again.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from grader.course import Course, now_utc
from grader.reports.env import template_env
from grader.reports.feedback import write_html

MUTANTS_TEMPLATE = "mutants.html"


def mutants_dir(course: Course) -> Path:
    return course.reports_dir / "mutants"


def write_mutants_page(course: Course, report: dict[str, Any]) -> Path:
    """Write reports/mutants/MODULE.html and MODULE.json; return the page's path."""
    folder = mutants_dir(course)
    title = next((m.title for m in course.modules if m.id == report["module"]), report["module"])
    html = template_env(course).get_template(MUTANTS_TEMPLATE).render(
        course={"id": course.id, "title": course.title}, module_title=title,
        generated_at=now_utc(), report=report)
    write_html(folder / f"{report['module']}.json", json.dumps(report, indent=1) + "\n")
    return write_html(folder / f"{report['module']}.html", html)
