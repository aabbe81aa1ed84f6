"""Instructor- and student-facing HTML: feedback pages and the static dashboard.

Templates come from the course's `course/templates/` first (overrides), then the
ones shipped in `grader/templates/`. Every page is self-contained: inline CSS and
SVG, no scripts, no external fetches.
"""
from grader.reports.dashboard import build_dashboard
from grader.reports.feedback import feedback_path, render_feedback, write_feedback

__all__ = ["build_dashboard", "feedback_path", "render_feedback", "write_feedback"]
