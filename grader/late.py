"""Late submissions: read nbgrader's timestamp.txt and turn lateness into a penalty.

The policy (course.toml `[late]`): nothing is late before `due + grace_minutes`;
after that every *started* day costs `penalty_per_day` of the max score, capped
at `max_penalty`. No due date or no timestamp means not late; a missing or
unreadable timestamp.txt is reported in a `late` notice (`read_submission_time`).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from grader.course import LatePolicy
from grader.errors import SubmissionError
from grader.harness.submitted_files import read_regular

DAY = timedelta(days=1)

# "2026-11-09 23:59:59.123456 UTC" (nbgrader), "2026-11-09T23:59:59Z", "...+01:00",
# "... +0100", "... Europe/Berlin", or naive (then the course timezone applies).
_TIMESTAMP = re.compile(
    r"""^(?P<date>\d{4}-\d{2}-\d{2})
        (?:[T\s]+(?P<time>\d{2}:\d{2}(?::\d{2}(?:[.,](?P<frac>\d+))?)?))?
        \s*(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?|[A-Za-z_]+(?:/[A-Za-z_+-]+)+)?$""",
    re.VERBOSE | re.IGNORECASE,
)


class TimestampError(SubmissionError, ValueError):
    """A submission timestamp cannot be read."""


@dataclass(frozen=True)
class LateVerdict:
    days_late: float          # time after the due date, in days (0.0 when not late)
    penalty_fraction: float   # fraction of the max score to take off, 0..max_penalty

    @property
    def late(self) -> bool:
        return self.days_late > 0


ON_TIME = LateVerdict(days_late=0.0, penalty_fraction=0.0)


def _zone(text: str) -> tzinfo:
    upper = text.upper()
    if upper in {"Z", "UTC", "GMT"}:
        return timezone.utc
    if text[0] in "+-":
        digits = text[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError(f"offset {text} out of range")
        sign = -1 if text[0] == "-" else 1
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {text!r}") from None


def parse_timestamp(text: str, *, tz: tzinfo = timezone.utc) -> datetime:
    """Parse a submission time; a naive time is taken in `tz` (the course's timezone).

    Raises TimestampError (a ValueError) naming the text when it is not a time.
    """
    raw = text.strip() if isinstance(text, str) else text
    match = _TIMESTAMP.match(raw) if isinstance(raw, str) else None
    if not match:
        raise TimestampError(
            f"not a timestamp: {text!r} (expected e.g. '2026-11-09 23:59:59.123456 UTC' "
            "or ISO 8601 '2026-11-09T23:59:59+00:00')")
    time = match["time"] or "00:00:00"
    if match["frac"]:  # fromisoformat wants exactly 3 or 6 digits; keep microseconds
        time = re.split(r"[.,]", time)[0] + "." + (match["frac"] + "000000")[:6]
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{time}")
        zone = _zone(match["zone"]) if match["zone"] else tz
    except ValueError as exc:
        raise TimestampError(f"not a timestamp: {text!r} ({exc})") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def read_submission_time(stamp: Path, *, tz: tzinfo = timezone.utc
                         ) -> tuple[datetime | None, str | None]:
    """The time written in a submission's timestamp.txt, and a notice when there is
    none to use: the file is missing or cannot be read. Either way the submission is
    graded as on time (nbgrader's choice too), and the notice says so, so that an
    instructor can tell a missing time from a punctual student."""
    if not stamp.is_file():
        return None, (f"no {stamp.name} in the submission: the time it was submitted is "
                      "unknown, so it was graded as on time")
    try:
        text = read_regular(stamp, limit=4096).decode("utf-8")   # never through a link
        return parse_timestamp(text, tz=tz), None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        why = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
        return None, (f"{stamp.name} could not be read ({why}): the time it was submitted "
                      "is unknown, so it was graded as on time")


def assess_late(policy: LatePolicy, due: datetime | None,
                submitted_at: datetime | None) -> LateVerdict:
    """How late a submission is and what fraction of the max score that costs."""
    if due is None or submitted_at is None:
        return ON_TIME
    if due.tzinfo is None:
        due = due.replace(tzinfo=timezone.utc)
    if submitted_at.tzinfo is None:
        submitted_at = submitted_at.replace(tzinfo=timezone.utc)
    deadline = due + timedelta(minutes=max(policy.grace_minutes, 0.0))
    if submitted_at <= deadline:
        return ON_TIME
    started_days = math.ceil((submitted_at - deadline) / DAY)
    fraction = min(started_days * max(policy.penalty_per_day, 0.0), policy.max_penalty, 1.0)
    days_late = (submitted_at - due) / DAY
    return LateVerdict(days_late=round(days_late, 6), penalty_fraction=round(max(fraction, 0.0), 9))


def apply_penalty(score: float, max_score: float, penalty_fraction: float
                  ) -> tuple[float, float]:
    """(score after the penalty, points taken off), as result.json records them: the
    penalty is `penalty_fraction` of the max score, never more than the score, so the
    score never goes below 0; both rounded to 4 places."""
    penalty = round(min(score, penalty_fraction * max_score), 4)
    return round(max(0.0, score - penalty), 4), penalty
