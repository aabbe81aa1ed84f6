"""The Jinja environment: course overrides first, then the package's templates."""
from __future__ import annotations

import functools
import json
import math
from datetime import datetime
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, StrictUndefined

from grader.course import Course
from grader.formatting import format_number, format_score

STATUS_LABELS = {
    "passed": "Passed", "partial": "Partly correct", "failed": "Failed", "error": "Error",
    "timeout": "Timed out", "crashed": "Crashed", "missing": "Missing",
    "manual": "Needs manual grading", "graded": "Graded", "invalid": "Invalid notebook",
    "answered": "Answered", "withdrawn": "Withdrawn",
}
# badge colour family per status (see style.css)
STATUS_TONES = {
    "passed": "ok", "partial": "warn", "failed": "bad", "error": "bad", "timeout": "bad",
    "crashed": "bad", "missing": "muted", "manual": "info", "graded": "ok", "invalid": "bad",
    "answered": "ok", "withdrawn": "muted",
}


def format_value(value: Any, limit: int = 240) -> str:
    """A JSON value as a student would read it: floats to 6 significant digits."""
    def simplify(v: Any) -> Any:
        if isinstance(v, float) and math.isfinite(v):
            return float(f"{v:.6g}")
        if isinstance(v, list):
            return [simplify(x) for x in v]
        if isinstance(v, dict):
            return {k: simplify(x) for k, x in v.items()}
        return v
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    else:
        try:
            text = json.dumps(simplify(value), ensure_ascii=False)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_moment(value: Any) -> str:
    if not value:
        return "–"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%Y-%m-%d %H:%M %Z").strip()


def _environment(loaders: list) -> Environment:
    env = Environment(loader=ChoiceLoader(loaders), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(num=format_number, score=format_score, value=format_value,
                       moment=format_moment,
                       status_label=lambda s: STATUS_LABELS.get(s, str(s).capitalize()),
                       tone=lambda s: STATUS_TONES.get(s, "muted"))
    return env


def template_env(course: Course) -> Environment:
    loaders = []
    if course.templates_dir.is_dir():
        loaders.append(FileSystemLoader(str(course.templates_dir)))
    loaders.append(PackageLoader("grader", "templates"))
    return _environment(loaders)


@functools.cache
def package_env() -> Environment:
    """The package's templates alone (a student's self-check has no course folder)."""
    return _environment([PackageLoader("grader", "templates")])
