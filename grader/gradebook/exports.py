"""`grader export --format csv|json`: the gradebook as a spreadsheet or as records.

CSV: one row per roster student (roster order), then anyone else who submitted
(`on_roster` = no), a column per module in course order (empty = no submission),
the total, and `withdrawn`: the modules whose result stands without its submission
folder (grader/gradebook/cohort.py); their cells are empty and the total leaves them
out; `extensions`: the modules graded with a deadline extension (course/extensions.csv)
and the due date that applied. JSON: `{"course": id, "results": [result records]}`,
each record with `on_roster` and `withdrawn` flags.
Without an output file the data goes to standard output and nothing else does.
"""
from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Literal

from grader.course import Course
from grader.errors import ConfigError
from grader.extensions import extensions_text
from grader.files import write_atomic
from grader.formatting import format_number as format_score  # 36.666 -> '36.67', 40.0 -> '40'
from grader.gradebook.cohort import is_withdrawn, on_roster, roster_ids
from grader.gradebook.store import Gradebook, open_gradebook
from grader.result import Result

FORMATS = ("csv", "json", "canvas", "lms")    # canvas, lms: grader/gradebook/lms.py


def grades_table(course: Course, gradebook: Gradebook) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the CSV export."""
    records = gradebook.results()
    by_student: dict[str, dict[str, Result]] = {}
    for record in records:
        by_student.setdefault(record.student, {})[record.module] = record
    module_ids = [m.id for m in course.modules]
    extra_modules = sorted({r.module for r in records} - set(module_ids))
    columns = module_ids + extra_modules
    # an assignment of several notebooks also gets a column per notebook, after its total
    parts: dict[str, list[str]] = {}
    for record in records:
        names = [n.notebook for n in record.notebooks or []]
        if len(names) > 1:
            known_parts = parts.setdefault(record.module, [])
            known_parts += [n for n in names if n not in known_parts]

    known = {s["id"]: s for s in gradebook.students()}
    roster = course.roster()
    on_roster = {s.id for s in roster}
    people = [(s.id, s.name, s.email, True) for s in roster]
    people += [(sid, known.get(sid, {}).get("name", ""), known.get(sid, {}).get("email", ""), False)
               for sid in sorted(set(by_student) - on_roster)]

    layout = [cell for m in columns
              for cell in [(m, None), *((m, n) for n in parts.get(m, []))]]
    header = ["student", "name", "email", "on_roster",
              *(m if n is None else f"{m}/{n.removesuffix('.ipynb')}" for m, n in layout),
              "total", "needs_manual_grading", "withdrawn", "extensions"]
    rows: list[list[str]] = []
    for sid, name, email, listed in people:
        theirs = by_student.get(sid, {})
        gone = [m for m in columns if m in theirs and is_withdrawn(course, theirs[m])]
        kept = {m: r for m, r in theirs.items() if m not in gone}
        cells = [_cell(kept.get(m), n) for m, n in layout]
        total = sum(float(r.score) for r in kept.values())
        pending = sum(1 for r in kept.values() for i in r.items if i.status == "manual")
        rows.append([sid, name, email, "yes" if listed else "no", *cells,
                     format_score(total) if kept else "", str(pending) if kept else "",
                     " ".join(gone), extensions_text(kept)])
    return header, rows


def _cell(record: Result | None, notebook: str | None) -> str:
    """A module's score, or (notebook given) that notebook's score before any late penalty."""
    if record is None:
        return ""
    if notebook is None:
        return format_score(record.score)
    part = next((n for n in record.notebooks or [] if n.notebook == notebook), None)
    return format_score(part.score) if part else ""


def render_csv(course: Course, gradebook: Gradebook) -> str:
    header, rows = grades_table(course, gradebook)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def render_json(course: Course, gradebook: Gradebook) -> str:
    roster = roster_ids(course)
    records = gradebook.results()
    results = [{**record.to_json(), "on_roster": on_roster(roster, record.student),
                "withdrawn": is_withdrawn(course, record)} for record in records]
    document = {"course": course.id, "results": results}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def export_grades(course: Course, *, fmt: Literal["csv", "json", "canvas", "lms"] | str,
                  output: Path | None = None, db_url: str | None = None,
                  column_map: Path | None = None) -> None:
    """Write the grades as CSV, JSON, Canvas's gradebook CSV or an LMS layout given by
    `column_map` (format "lms") to `output`, or to standard output when None."""
    from grader.gradebook import lms
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}; use one of: {', '.join(FORMATS)}")
    if (fmt == "lms") != (column_map is not None):
        raise ConfigError("--map FILE goes with --format lms (and --format lms needs it)")
    mapping = lms.load_map(Path(column_map), course) if column_map is not None else None
    with open_gradebook(db_url or course.db_url, read_only=True) as gradebook:
        if fmt == "canvas":
            text = lms.render_canvas(course, gradebook)
        elif mapping is not None:
            text = lms.render_mapped(course, gradebook, mapping)
        else:
            text = render_csv(course, gradebook) if fmt == "csv" else render_json(course, gradebook)
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomic(Path(output), text)
