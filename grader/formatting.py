"""The one number format for scores, points and means, everywhere a person reads them.

Feedback pages, the dashboard, `grader status`, `grader autograde`'s summary,
`grader check` (terminal and notebook) and the CSV export all print scores through
these two functions: at most two decimals, trailing zeros dropped, never an
exponent (`10.3`, `36.67`, `40`), and a score against its maximum as `10.3 / 15`.
"""
from __future__ import annotations

from typing import Any

NO_VALUE = "–"


def format_number(value: Any) -> str:
    """36.666 -> '36.67', 10.30 -> '10.3', 40.0 -> '40', None -> '–'."""
    if value is None:
        return NO_VALUE
    text = f"{round(float(value), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_score(score: Any, max_score: Any) -> str:
    """A score against its maximum: '10.3 / 15' ('– / 5' when not scored yet)."""
    return f"{format_number(score)} / {format_number(max_score)}"
