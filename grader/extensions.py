"""Per-student deadline extensions: course/extensions.csv.

Columns `student,module,due,days,reason`: a row moves one student's due date for one
module, either to a new `due` (ISO 8601 or nbgrader's format; a date alone means 23:59
that day; no offset means the course's timezone) or by `days` (a number, fractions
allowed) after the module's due date. Exactly one of the two per row. The late policy
(grader/late.py) then measures lateness from the extended due date, and the result gets
a `late` notice starting "extension:" that feedback pages and exports show. Every
mistake is a ConfigError at `extensions.csv:LINE`.
"""
from __future__ import annotations

import csv
import difflib
import json
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from grader.course import COURSE_FILE, Course
from grader.errors import ConfigError
from grader.result import Result

EXTENSIONS_FILE = Path("course") / "extensions.csv"
NOTICE_PREFIX = "extension:"


@dataclass(frozen=True)
class Extension:
    student: str
    module: str
    due: datetime
    original_due: datetime | None
    reason: str
    line: int

    def notice(self) -> str:
        """What the student's result says (the reason stays with the instructor)."""
        was = f" instead of {_moment(self.original_due)}" if self.original_due else ""
        return f"{NOTICE_PREFIX} due {_moment(self.due)}{was}; lateness is counted from then"


def _moment(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _course_tz(course: Course):
    try:
        head = tomllib.loads((course.root / COURSE_FILE).read_text(encoding="utf-8"))["course"]
        return ZoneInfo(head.get("timezone", "UTC"))
    except Exception:      # load_course already checked it; fall back quietly
        return timezone.utc


def _parse_due(text: str, tz) -> datetime:
    from grader.late import parse_timestamp
    text = text.strip()
    if len(text) == 10:                     # a date alone: the end of that day
        text += "T23:59:00"
    return parse_timestamp(text, tz=tz)


def load_extensions(course: Course) -> dict[tuple[str, str], Extension]:
    """(student, module) -> Extension; {} without the file."""
    path = course.root / EXTENSIONS_FILE
    if not path.is_file():
        return {}
    tz = _course_tz(course)
    modules = {m.id: m for m in course.modules}
    roster = {s.id for s in course.roster()}
    found: dict[tuple[str, str], Extension] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = [f.strip() for f in reader.fieldnames or []]
        if not {"student", "module"} <= set(fields) or not {"due", "days"} & set(fields):
            raise ConfigError("needs a header row `student,module,due,days,reason` (due or "
                              "days may be left out)", path=path, line=1)
        for row in reader:
            line = reader.line_num
            row = {(k or "").strip(): (v or "").strip() for k, v in row.items()
                   if isinstance(v, str)}
            if not any(row.values()):
                continue
            student, module_id = row.get("student", ""), row.get("module", "")

            def fail(message: str) -> None:
                raise ConfigError(message, path=path, line=line)
            if not student:
                fail("empty student")
            if roster and student not in roster and not (
                    course.submitted_dir / student).is_dir():
                close = difflib.get_close_matches(student, sorted(roster), n=1)
                fail(f"student {student!r} is not in roster.csv and has no submissions"
                     + (f" (did you mean {close[0]!r}?)" if close else ""))
            if module_id not in modules:
                close = difflib.get_close_matches(module_id, sorted(modules), n=1)
                fail(f"module {module_id!r} is not in course.toml"
                     + (f" (did you mean {close[0]!r}?)" if close else ""))
            if (student, module_id) in found:
                fail(f"a second extension for {student} in {module_id} (the first is on line "
                     f"{found[(student, module_id)].line})")
            due_text, days_text = row.get("due", ""), row.get("days", "")
            original = modules[module_id].due
            if bool(due_text) == bool(days_text):
                fail("give either a new due date (due) or extra days (days), not "
                     + ("both" if due_text else "neither"))
            if due_text:
                try:
                    due = _parse_due(due_text, tz)
                except ValueError as exc:
                    fail(f"due: {exc}")
                if original is not None and due <= original:
                    fail(f"due {_moment(due)} is not after the module's due date "
                         f"{_moment(original)}")
            else:
                try:
                    days = float(days_text)
                except ValueError:
                    fail(f"days must be a number, not {days_text!r}")
                if not 0 < days < 3650:
                    fail(f"days must be more than 0, not {days_text}")
                if original is None:
                    fail(f"{module_id} has no due date in course.toml to add days to")
                due = original + timedelta(days=days)
            found[(student, module_id)] = Extension(student, module_id, due, original,
                                                    row.get("reason", ""), line)
    return found


def due_for(course: Course, module_id: str, student: str,
            extensions: dict[tuple[str, str], Extension] | None = None) -> datetime | None:
    """The due date that applies to one student's module: the extension's, else the
    module's (what anything that recomputes a late penalty must use)."""
    found = (load_extensions(course) if extensions is None else extensions).get(
        (student, module_id))
    return found.due if found else course.module(module_id).due


def applied_extension(result: Result) -> str | None:
    """The extension notice a result carries (what was applied when it was graded)."""
    for notice in result.notices:
        if notice.kind == "late" and NOTICE_PREFIX in notice.message:
            return notice.message[notice.message.index(NOTICE_PREFIX):].split("; lateness")[0]
    return None


def extensions_text(records: dict[str, Result]) -> str:
    """`MODULE: extension: due ...` for each result (module -> record) graded with an
    extended due date: the exports' `extensions` column."""
    return "; ".join(f"{m}: {applied_extension(r)}" for m, r in records.items()
                     if applied_extension(r))


def extension_changed(course: Course, result_path: Path,
                      extension: Extension | None) -> bool:
    """Whether a stored result was graded under another extension than the current one
    (then the late penalty must be worked out again)."""
    try:
        stored = Result.from_json(json.loads(result_path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):   # not a result: nothing to compare
        return False
    now = extension.notice().split("; lateness")[0] if extension else None
    return applied_extension(stored) != now
