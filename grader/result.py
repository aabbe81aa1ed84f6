"""The result of grading one submission (DESIGN.md, "Result of one submission").

One definition of what a result's statuses mean, for every consumer (autograde's
summary, `grader status`, the dashboard).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# the submission was not graded: the harness failed, or there was no readable notebook
FAILED_STATUSES = frozenset({"error", "invalid", "missing"})


def failed_to_run(result: Mapping[str, Any]) -> bool:
    """The submission did not run to the end: a failed status, or an item whose
    kernel crashed (it scored 0 for a reason that is not the student's answer)."""
    return (result.get("status") in FAILED_STATUSES
            or any(item.get("status") == "crashed" for item in result.get("items") or []))
