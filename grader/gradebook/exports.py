"""`grader export --format csv|json`: the gradebook as a spreadsheet or as records.

CSV: one row per roster student (roster order), then anyone else who submitted
(`on_roster` = no), a column per module in course order (empty = no submission)
and the total. JSON: `{"course": id, "results": [result records]}`.
Without an output file the data goes to standard output and nothing else does.
"""
from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Literal

from grader.course import Course
from grader.errors import ConfigError
from grader.formatting import format_number as format_score  # 36.666 -> '36.67', 40.0 -> '40'
from grader.gradebook.store import Gradebook, open_gradebook

FORMATS = ("csv", "json")


def grades_table(course: Course, gradebook: Gradebook) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the CSV export (also used by the dashboard's student table)."""
    records = gradebook.results()
    by_student: dict[str, dict[str, dict[str, Any]]] = {}
    for record in records:
        by_student.setdefault(record["student"], {})[record["module"]] = record
    module_ids = [m.id for m in course.modules]
    extra_modules = sorted({r["module"] for r in records} - set(module_ids))
    columns = module_ids + extra_modules

    known = {s["id"]: s for s in gradebook.students()}
    roster = course.roster()
    on_roster = {s.id for s in roster}
    people = [(s.id, s.name, s.email, True) for s in roster]
    people += [(sid, known.get(sid, {}).get("name", ""), known.get(sid, {}).get("email", ""), False)
               for sid in sorted(set(by_student) - on_roster)]

    header = ["student", "name", "email", "on_roster", *columns, "total"]
    rows: list[list[str]] = []
    for sid, name, email, listed in people:
        theirs = by_student.get(sid, {})
        cells = [format_score(theirs[m].get("score") or 0.0) if m in theirs else "" for m in columns]
        total = sum(float(r.get("score") or 0.0) for r in theirs.values())
        rows.append([sid, name, email, "yes" if listed else "no", *cells,
                     format_score(total) if theirs else ""])
    return header, rows


def render_csv(course: Course, gradebook: Gradebook) -> str:
    header, rows = grades_table(course, gradebook)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def render_json(course: Course, gradebook: Gradebook) -> str:
    document = {"course": course.id, "results": gradebook.results()}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_grades(course: Course, *, fmt: Literal["csv", "json"] | str, output: Path | None = None,
                  db_url: str | None = None) -> None:
    """Write the grades as CSV or JSON to `output`, or to standard output when None."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    with open_gradebook(db_url or course.db_url, read_only=True) as gradebook:
        text = render_csv(course, gradebook) if fmt == "csv" else render_json(course, gradebook)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        _write_atomically(Path(output), text)
