"""Instructor- and student-facing HTML: feedback pages and the static dashboard.

Templates come from the course's `course/templates/` first (overrides), then the
ones shipped in `grader/templates/`. Every page is self-contained: inline CSS and
SVG, no scripts, no external fetches.
"""
from __future__ import annotations

import importlib
from typing import Any

# Imported on first use: `grader check` renders its report from grader.reports.check_view
# and must not pay for the dashboard's gradebook (SQLAlchemy) on the way.
_EXPORTS = {"build_dashboard": "grader.reports.dashboard",
            "feedback_path": "grader.reports.feedback",
            "render_feedback": "grader.reports.feedback",
            "write_feedback": "grader.reports.feedback"}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'grader.reports' has no attribute {name!r}")
