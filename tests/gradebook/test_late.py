"""Late policy: grace, started days, cap, timestamps in nbgrader's and ISO formats."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from grader.course import LatePolicy, load_course
from grader.late import LateVerdict, TimestampError, apply_penalty, assess_late, parse_timestamp

DUE = datetime(2026, 11, 9, 23, 59, tzinfo=timezone.utc)
POLICY = LatePolicy(penalty_per_day=0.10, max_penalty=0.50, grace_minutes=15)


def test_on_time_and_missing_information_are_not_late() -> None:
    assert assess_late(POLICY, DUE, DUE - timedelta(hours=3)) == LateVerdict(0.0, 0.0)
    assert assess_late(POLICY, DUE, DUE) == LateVerdict(0.0, 0.0)
    assert assess_late(POLICY, None, DUE + timedelta(days=3)) == LateVerdict(0.0, 0.0)
    assert assess_late(POLICY, DUE, None) == LateVerdict(0.0, 0.0)
    assert not assess_late(POLICY, DUE, DUE).late


def test_within_grace_is_not_late() -> None:
    verdict = assess_late(POLICY, DUE, DUE + timedelta(minutes=14, seconds=59))
    assert verdict == LateVerdict(0.0, 0.0)
    just_after = assess_late(POLICY, DUE, DUE + timedelta(minutes=15, seconds=1))
    assert just_after.late and just_after.penalty_fraction == pytest.approx(0.10)


def test_one_and_a_half_days_late_costs_two_started_days() -> None:
    verdict = assess_late(POLICY, DUE, DUE + timedelta(days=1.5))
    assert verdict.days_late == pytest.approx(1.5)
    assert verdict.penalty_fraction == pytest.approx(0.20)
    assert apply_penalty(40.0, 40.0, verdict.penalty_fraction) == (32.0, 8.0)


def test_penalty_is_capped_and_score_never_negative() -> None:
    verdict = assess_late(POLICY, DUE, DUE + timedelta(days=30))
    assert verdict.penalty_fraction == pytest.approx(0.50)
    assert verdict.days_late == pytest.approx(30.0)
    assert apply_penalty(40.0, 40.0, verdict.penalty_fraction) == (20.0, 20.0)
    # a weak submission loses at most what it has
    assert apply_penalty(5.0, 40.0, verdict.penalty_fraction) == (0.0, 5.0)
    harsh = LatePolicy(penalty_per_day=0.6, max_penalty=2.0, grace_minutes=0)
    assert assess_late(harsh, DUE, DUE + timedelta(days=3)).penalty_fraction == 1.0


def test_offsets_and_naive_times() -> None:
    # 00:30 in Berlin (UTC+1 in November) is 23:30 UTC: on time
    berlin = parse_timestamp("2026-11-10 00:30:00 +0100")
    assert assess_late(POLICY, DUE, berlin) == LateVerdict(0.0, 0.0)
    naive = datetime(2026, 11, 11, 12, 0)           # taken as UTC
    assert assess_late(POLICY, DUE, naive).penalty_fraction == pytest.approx(0.20)


@pytest.mark.parametrize("text, expected", [
    ("2026-11-09 23:59:59.123456 UTC", datetime(2026, 11, 9, 23, 59, 59, 123456, tzinfo=timezone.utc)),
    ("2026-11-09 23:59:59 UTC\n", datetime(2026, 11, 9, 23, 59, 59, tzinfo=timezone.utc)),
    ("2026-11-09T23:59:59Z", datetime(2026, 11, 9, 23, 59, 59, tzinfo=timezone.utc)),
    ("2026-11-09T23:59:59.5+02:00", datetime(2026, 11, 9, 21, 59, 59, 500000, tzinfo=timezone.utc)),
    ("2026-11-09 23:59:59", datetime(2026, 11, 9, 23, 59, 59, tzinfo=timezone.utc)),
])
def test_parse_timestamp(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed.tzinfo is not None
    assert parsed == expected


@pytest.mark.parametrize("junk", ["", "yesterday", "2026-11-09 25:00:00", "2026-02-30 10:00",
                                  "2026-11-09 10:00 Mars/Olympus", "1636502399"])
def test_bad_timestamp_is_a_clear_error(junk: str) -> None:
    with pytest.raises(TimestampError, match="not a timestamp"):
        parse_timestamp(junk)
    with pytest.raises(ValueError):             # also a ValueError, for callers that expect one
        parse_timestamp(junk)


def test_course_policy_from_course_toml(course_dir) -> None:
    course = load_course(course_dir)
    due = course.module("09_training").due
    submitted = parse_timestamp("2026-11-11 11:59:00.000000 UTC")   # 1.5 days after 23:59
    verdict = assess_late(course.late, due, submitted)
    assert verdict.days_late == pytest.approx(1.5)
    assert verdict.penalty_fraction == pytest.approx(0.20)


@pytest.mark.parametrize("content, why", [
    (None, "no timestamp.txt in the submission"),
    (b"yesterday\n", "timestamp.txt could not be read (not a timestamp: 'yesterday\\n'"),
    (b"2026-11-09 25:00:00 UTC", "timestamp.txt could not be read (not a timestamp"),
    (b"\xff\xfe2026", "timestamp.txt could not be read (invalid start byte)"),
])
def test_missing_or_bad_timestamp_gives_a_late_notice(course_dir, tmp_path, content, why) -> None:
    from grader.autograde.batch import late_checker
    folder = tmp_path / "submitted" / "alice" / "09_training"
    folder.mkdir(parents=True)
    if content is not None:
        (folder / "timestamp.txt").write_bytes(content)
    submitted_at, days_late, fraction, notice = late_checker(load_course(course_dir),
                                                             "09_training")(folder)
    assert (submitted_at, days_late, fraction) == (None, 0.0, 0.0)
    assert notice.startswith(why), notice
    assert notice.endswith("the time it was submitted is unknown, so it was graded as on time")


def test_readable_timestamp_gives_no_notice(course_dir, tmp_path) -> None:
    from grader.autograde.batch import late_checker
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "timestamp.txt").write_text("2026-11-11 11:59:00.000000 UTC")
    submitted_at, days_late, fraction, notice = late_checker(load_course(course_dir),
                                                             "09_training")(folder)
    assert notice is None and fraction == pytest.approx(0.20) and days_late == pytest.approx(1.5)
