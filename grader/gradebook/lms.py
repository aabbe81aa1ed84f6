"""Grades as an LMS imports them: Canvas's gradebook CSV, or any layout by a column map.

Canvas (`--format canvas`): the header `Student,ID,SIS User ID,SIS Login ID,Section`, a
column per module that has results (headed by the module's title, which Canvas takes
as the assignment's name), then a `Points Possible` row and a row per roster student.
Canvas matches a row by ID, SIS User ID or SIS Login ID: the roster's `lms_id`,
`sis_id` and `login_id` columns. Students not on the roster cannot be matched and are
left out, as is anyone on it with none of the three (each with a warning on stderr).
A withdrawn or missing result is an empty cell (Canvas leaves such a grade alone).

Generic (`--format lms --map FILE`), for Moodle, Blackboard and others: the map lists
the output columns in order, each `HEADER = SOURCE`, where SOURCE is a roster field
(id, name, email, sis_id, login_id, section, lms_id), `module:MODULE_ID` (that module's
score), `total`, or `extensions` (the deadline extensions the scores were graded
with). A `.toml` map holds a `[columns]` table and optionally `points_row = "LABEL"` (a
second row with each module's points) and `delimiter`; a `.csv` map has the header
`column,source` and a row per column.
"""
from __future__ import annotations

import csv
import io
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

from grader.course import Course
from grader.course_schema import TomlLines
from grader.errors import ConfigError
from grader.extensions import extensions_text
from grader.formatting import format_number
from grader.gradebook.cohort import is_withdrawn
from grader.gradebook.store import Gradebook
from grader.result import Result

CANVAS_IDENTITY = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
CANVAS_POINTS_ROW = "Points Possible"
ROSTER_FIELDS = ("id", "name", "email", "sis_id", "login_id", "section", "lms_id")


@dataclass(frozen=True)
class ColumnMap:
    columns: list[tuple[str, str]]        # (header, source)
    points_row: str | None = None
    delimiter: str = ","


def _scores(course: Course, gradebook: Gradebook) -> tuple[dict[str, dict[str, Result]], list[str]]:
    """student -> module -> result (withdrawn left out), and the modules with results in
    course order."""
    by_student: dict[str, dict[str, Result]] = {}
    for result in gradebook.results():
        if not is_withdrawn(course, result):
            by_student.setdefault(result.student, {})[result.module] = result
    graded = {m for theirs in by_student.values() for m in theirs}
    return by_student, [m.id for m in course.modules if m.id in graded]


def _points(by_student: dict[str, dict[str, Result]], module_id: str) -> str:
    best = max((float(r.max_score) for theirs in by_student.values()
                for m, r in theirs.items() if m == module_id), default=0.0)
    return format_number(best)


def _score(result: Result | None) -> str:
    return "" if result is None else format_number(result.score)


def _csv(rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def _warn(message: str) -> None:
    print(f"grader: warning: {message}", file=sys.stderr)


def render_canvas(course: Course, gradebook: Gradebook) -> str:
    by_student, modules = _scores(course, gradebook)
    titles = {m.id: m.title or m.id for m in course.modules}
    rows = [CANVAS_IDENTITY + [titles[m] for m in modules],
            [CANVAS_POINTS_ROW, "", "", "", ""] + [_points(by_student, m) for m in modules]]
    roster = course.roster()
    listed = {s.id for s in roster}
    unmatched = sorted(set(by_student) - listed)
    if unmatched:
        _warn(f"not in roster.csv, left out of the Canvas file: {', '.join(unmatched)}")
    no_ids = [s.id for s in roster if not (s.lms_id or s.sis_id or s.login_id)]
    if no_ids:
        _warn("no lms_id, sis_id or login_id in roster.csv (Canvas cannot match them), left "
              f"out: {', '.join(no_ids)}")
    for s in roster:
        if s.id in no_ids:
            continue
        theirs = by_student.get(s.id, {})
        rows.append([s.name or s.id, s.lms_id, s.sis_id, s.login_id, s.section]
                    + [_score(theirs.get(m)) for m in modules])
    return _csv(rows)


def load_map(path: Path, course: Course) -> ColumnMap:
    """Read a column map (.toml or .csv); every mistake is a ConfigError at FILE:LINE."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the column map: {exc}", path=path) from None
    modules = {m.id for m in course.modules}
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"not valid TOML: {exc}", path=path) from None
        lines = TomlLines(text)
        unknown = sorted(set(data) - {"columns", "points_row", "delimiter"})
        if unknown:
            raise ConfigError(f"unknown key {unknown[0]!r}; known: columns, points_row, "
                              "delimiter", path=path, line=lines.line(unknown[0]))
        table = data.get("columns")
        if not isinstance(table, dict) or not table:
            raise ConfigError("needs a [columns] table: HEADER = SOURCE per output column",
                              path=path, line=lines.line("columns"))
        columns = []
        for header, source in table.items():
            _refuse_unknown_source(str(source), modules, path, lines.line("columns", header))
            columns.append((header, str(source)))
        delimiter = str(data.get("delimiter", ","))
        if len(delimiter) != 1:
            raise ConfigError("delimiter must be one character", path=path,
                              line=lines.line("delimiter"))
        points = data.get("points_row")
        return ColumnMap(columns, str(points) if points else None, delimiter)
    if path.suffix == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames is None or not {"column", "source"} <= set(reader.fieldnames):
            raise ConfigError("a CSV column map needs the header `column,source`", path=path,
                              line=1)
        columns = []
        for row in reader:
            header, source = (row.get("column") or "").strip(), (row.get("source") or "").strip()
            if not header:
                raise ConfigError("empty column name", path=path, line=reader.line_num)
            _refuse_unknown_source(source, modules, path, reader.line_num)
            columns.append((header, source))
        if not columns:
            raise ConfigError("the column map lists no column", path=path, line=1)
        return ColumnMap(columns)
    raise ConfigError("a column map is a .toml or .csv file", path=path)


def _refuse_unknown_source(source: str, modules: set[str], path: Path, line: int | None) -> None:
    if source in ROSTER_FIELDS or source in ("total", "extensions"):
        return
    if source.startswith("module:"):
        if source[len("module:"):] in modules:
            return
        raise ConfigError(f"{source!r} names no module of course.toml "
                          f"({', '.join(sorted(modules))})", path=path, line=line)
    raise ConfigError(f"unknown source {source!r}: use a roster field "
                      f"({', '.join(ROSTER_FIELDS)}), module:MODULE_ID, total or extensions",
                      path=path, line=line)


def render_mapped(course: Course, gradebook: Gradebook, mapping: ColumnMap) -> str:
    by_student, _ = _scores(course, gradebook)
    rows = [[header for header, _ in mapping.columns]]
    if mapping.points_row:
        rows.append([mapping.points_row if n == 0 else
                     _points(by_student, source[len("module:"):]) if source.startswith("module:")
                     else "" for n, (_, source) in enumerate(mapping.columns)])
    roster = course.roster()
    unmatched = sorted(set(by_student) - {s.id for s in roster})
    if unmatched:
        _warn(f"not in roster.csv, left out of the export: {', '.join(unmatched)}")
    for student in roster:
        theirs = by_student.get(student.id, {})
        row = []
        for _, source in mapping.columns:
            if source.startswith("module:"):
                row.append(_score(theirs.get(source[len("module:"):])))
            elif source == "extensions":
                row.append(extensions_text(theirs))
            elif source == "total":
                row.append(format_number(sum(float(r.score) for r in theirs.values()))
                           if theirs else "")
            else:
                row.append(str(getattr(student, source)))
        rows.append(row)
    return _csv(rows, mapping.delimiter)
