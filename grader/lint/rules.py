"""The lint rules: one function per rule, run in the order of RULES.

Each rule takes the scanned source and yields Problems. Rules never raise on
malformed input; a cell whose metadata cannot be read (L001) is skipped by the
rules that depend on its metadata.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Iterator

from grader.lint.problems import Problem, Severity
from grader.markers import Marker, find_marker
from grader.lint.scan import ScannedCell, Source, lenient_object
from grader.lint.syntax import CellSyntaxError, can_fail, parse_cell

REQUIRED_KEYS = ("grade", "grade_id", "locked", "solution", "schema_version")
BOOLEAN_KEYS = ("grade", "locked", "solution", "task")
# every key nbgrader's schema 3 allows; checksum/cell_type appear in released notebooks
KNOWN_KEYS = frozenset(REQUIRED_KEYS) | {"points", "task", "checksum", "cell_type"}
SCHEMA_VERSION = 3
GRADE_ID = re.compile(r"^[A-Za-z0-9_\-]+$")
RUN_FIX = "run `grader lint --fix`"

Rule = Callable[[Source], Iterable[Problem]]


def problem(src: Source, cell: ScannedCell, severity: Severity, code: str, message: str,
            fix: str = "", offset: int | None = None) -> Problem:
    """A problem at the cell's header, or at body line `offset` (0-based)."""
    return Problem(path=src.path, line=cell.line_of(offset), severity=severity, code=code,
                   message=cell.where(offset) + message, fix=fix)


def _label(cell: ScannedCell) -> str:
    grade_id = cell.meta.get("grade_id") if cell.meta else None
    return f"cell {grade_id!r}" if isinstance(grade_id, str) and grade_id else "cell"


# --- L001 ----------------------------------------------------------------------------

def check_metadata_json(src: Source) -> Iterator[Problem]:
    """L001: `nbgrader=` on a header is not a parsable JSON object."""
    for cell in src.cells:
        if cell.meta_error is not None:
            repairable = cell.meta_text is not None and lenient_object(cell.meta_text) is not None
            yield problem(src, cell, "error", "L001",
                          f"nbgrader metadata is not valid JSON: {cell.meta_error}",
                          RUN_FIX if repairable else "write it as a JSON object: double quotes, "
                          "true/false, no trailing commas")


# --- L002 ----------------------------------------------------------------------------

def check_metadata_keys(src: Source) -> Iterator[Problem]:
    """L002: required keys missing, old schema, wrong value types; unknown keys warn."""
    for cell in src.cells:
        meta = cell.meta
        if meta is None:
            continue
        missing = [key for key in REQUIRED_KEYS if key not in meta]
        wrong = ["missing " + ", ".join(missing)] if missing else []
        version = meta.get("schema_version")
        old_schema = (isinstance(version, int) and not isinstance(version, bool)
                      and version < SCHEMA_VERSION)
        if old_schema:
            wrong.append(f"old nbgrader schema {version} (expected {SCHEMA_VERSION})")
        bad_values = []
        if "schema_version" in meta and (not isinstance(version, int) or isinstance(version, bool)):
            bad_values.append(f"schema_version is {version!r}, not an integer")
        bad_values += [f"{key} is {meta[key]!r}, not true/false"
                       for key in BOOLEAN_KEYS if key in meta and not isinstance(meta[key], bool)]
        grade_id = meta.get("grade_id")
        if "grade_id" in meta and not (isinstance(grade_id, str) and GRADE_ID.match(grade_id)):
            bad_values.append(f"grade_id {grade_id!r} is not a non-empty string of letters, "
                              "digits, '_' and '-'")
        if wrong or bad_values:
            fixes = []
            if "grade_id" in missing:
                fixes.append('add "grade_id": "<unique-id>"')
            if bad_values:
                fixes.append('use JSON true/false, an integer schema_version and a grade_id '
                             'like "test-loss"')
            if old_schema or any(key != "grade_id" for key in missing):
                fixes.append(RUN_FIX)
            yield problem(src, cell, "error", "L002",
                          f"nbgrader metadata: {'; '.join(wrong + bad_values)}", ", then ".join(fixes))
        if "task" not in meta and not missing:
            yield problem(src, cell, "warning", "L002",
                          'nbgrader metadata has no "task" key (schema 3 writes task: false)',
                          RUN_FIX)
        unknown = sorted(key for key in meta if key not in KNOWN_KEYS)
        if unknown:
            yield problem(src, cell, "warning", "L002",
                          f"unknown nbgrader metadata key(s): {', '.join(unknown)}",
                          "remove them (nbgrader drops unknown keys)")


# --- L003 ----------------------------------------------------------------------------

def check_duplicate_ids(src: Source) -> Iterator[Problem]:
    """L003: a grade_id used twice in one file (reported at the second use)."""
    first: dict[str, ScannedCell] = {}
    for cell in src.cells:
        grade_id = cell.meta.get("grade_id") if cell.meta else None
        if not isinstance(grade_id, str) or not grade_id:
            continue
        if grade_id in first:
            where = first[grade_id].where() or f"line {first[grade_id].header_line}"
            yield problem(src, cell, "error", "L003",
                          f"duplicate grade_id {grade_id!r} (first used at {where.rstrip(': ')})",
                          "give each cell its own grade_id")
        else:
            first[grade_id] = cell


# --- L004 ----------------------------------------------------------------------------

def check_points(src: Source) -> Iterator[Problem]:
    """L004: graded cells need non-negative numeric points; points elsewhere are ignored."""
    for cell in src.cells:
        if cell.meta is None:
            continue
        points = cell.meta.get("points")
        if cell.flag("grade"):
            if "points" not in cell.meta:
                yield problem(src, cell, "error", "L004", f"graded {_label(cell)} has no points",
                              'add "points": N')
            elif (not isinstance(points, (int, float)) or isinstance(points, bool)
                  or not math.isfinite(points) or points < 0):
                yield problem(src, cell, "error", "L004",
                              f"points {points!r} is not a non-negative number",
                              'write points as a JSON number, e.g. "points": 5')
        elif "points" in cell.meta and not cell.flag("task"):
            yield problem(src, cell, "warning", "L004",
                          f"points on {_label(cell)} that is not graded (grade is not true) "
                          "are ignored", 'set "grade": true or remove "points"')


# --- L005 / L006 ---------------------------------------------------------------------

def _marker(cell: ScannedCell, line: str) -> Marker | None:
    """The nbgrader marker on `line`, exact or a near miss (see grader.markers)."""
    return find_marker(line, markdown=cell.kind != "code", commented=not cell.in_notebook)


def _check_regions(src: Source, code: str, name: str, allowed: Callable[[ScannedCell], bool],
                   role: str) -> Iterator[Problem]:
    """Balance (near misses count, so a misspelled marker is reported once, by L012)
    and placement (exact markers only) of one region kind."""
    begin, end = f"### BEGIN {name}", f"### END {name}"
    region = name.lower()
    for cell in src.cells:
        if cell.kind == "raw":
            continue
        opened: int | None = None
        first_marker: int | None = None
        for offset, line in enumerate(cell.lines):
            marker = _marker(cell, line)
            if marker is None or marker.region != region:
                continue
            if first_marker is None and marker.exact:
                first_marker = offset
            if marker.edge == "begin":
                if opened is not None:
                    yield problem(src, cell, "error", code,
                                  f"nested {begin}: the region opened at "
                                  f"{_pos(cell, opened)} is still open",
                                  f"add {end} before this line", offset)
                opened = offset
            elif opened is None:
                if marker.exact:
                    yield problem(src, cell, "error", code, f"{end} without a {begin} before it",
                                  f"add {begin} above the region or remove this line", offset)
            else:
                opened = None
        if opened is not None:
            yield problem(src, cell, "error", code, f"{begin} is never closed in its cell",
                          f"add {end} at the end of the region", opened)
        if first_marker is not None and cell.meta_error is None and not allowed(cell):
            if cell.meta is None:
                why = f"a {cell.kind} cell with no nbgrader metadata"
            else:
                why = f"{_label(cell)} that is not {role}"
            yield problem(src, cell, "error", code,
                          f"{region} marker in {why}",
                          f"mark the cell as {role} or remove the markers", first_marker)


def _pos(cell: ScannedCell, offset: int) -> str:
    return f"cell {cell.number} line {offset + 1}" if cell.in_notebook else f"line {cell.line_of(offset)}"


def check_solution_markers(src: Source) -> Iterator[Problem]:
    """L005: ### BEGIN/END SOLUTION balanced, and only in `solution: true` cells."""
    return _check_regions(src, "L005", "SOLUTION", lambda cell: cell.is_solution,
                          "a solution cell (solution: true)")


def check_hidden_test_markers(src: Source) -> Iterator[Problem]:
    """L006: ### BEGIN/END HIDDEN TESTS balanced, and only in graded test cells."""
    return _check_regions(src, "L006", "HIDDEN TESTS", lambda cell: cell.is_test,
                          "a graded test cell (grade: true, solution: false)")


# --- L007 ----------------------------------------------------------------------------

def check_test_cells_locked(src: Source) -> Iterator[Problem]:
    """L007 (warning): a graded test cell students can edit."""
    for cell in src.cells:
        if cell.is_test and not cell.flag("locked"):
            yield problem(src, cell, "warning", "L007",
                          f"graded test {_label(cell)} is not locked", 'set "locked": true')


# --- L008 / L009 ---------------------------------------------------------------------

def _parsed(cell: ScannedCell):
    if cell._parsed is None:
        cell._parsed = parse_cell(tuple(cell.lines)) or False  # False: a cell magic
    return cell._parsed or None


def check_syntax(src: Source) -> Iterator[Problem]:
    """L008: Python syntax errors in code cells (IPython syntax allowed)."""
    for cell in src.cells:
        if cell.kind != "code":
            continue
        result = _parsed(cell)
        if isinstance(result, CellSyntaxError):
            yield problem(src, cell, "error", "L008", result.message,
                          "correct the Python syntax", result.offset)


def check_test_functions(src: Source) -> Iterator[Problem]:
    """L009: a graded test cell that can check nothing (no assert, raise or call runs:
    not at the top level, nor in a `test*` function the harness calls)."""
    for cell in src.cells:
        if not cell.is_test:
            continue
        tree = _parsed(cell)
        if tree is None or isinstance(tree, CellSyntaxError):
            continue  # a cell magic, or L008 already reports it
        if not can_fail(tree):
            yield problem(src, cell, "error", "L009",
                          f"graded test {_label(cell)} can check nothing (no assert, raise or "
                          "call runs): the harness would award its points for running nothing",
                          "assert at the top level of the cell (nbgrader style) or in a "
                          "top-level `def test_...():`")


# --- L010 ----------------------------------------------------------------------------

DIRECTIVE = re.compile(r"^#\|\s*(?P<name>[\w-]+)(?P<args>.*)$")


def check_export_directives(src: Source) -> Iterator[Problem]:
    """L010: at most one `#| default_exp`, with a name; `#| export` needs a default_exp."""
    default_exp: tuple[ScannedCell, int] | None = None
    first_export: tuple[ScannedCell, int] | None = None
    for cell in src.cells:
        if cell.kind != "code":
            continue
        for offset, line in enumerate(cell.lines):
            match = DIRECTIVE.match(line)
            if not match:
                continue
            name, args = match.group("name"), match.group("args").strip()
            if name == "default_exp":
                if not args:
                    yield problem(src, cell, "error", "L010", "#| default_exp names no module",
                                  "write e.g. `#| default_exp core.training`", offset)
                if default_exp is None:
                    default_exp = (cell, offset)
                else:
                    yield problem(src, cell, "error", "L010",
                                  f"second #| default_exp (the first is at "
                                  f"{_pos(*default_exp)})", "keep one #| default_exp per file",
                                  offset)
            elif name in ("export", "exports", "exporti") and first_export is None:
                first_export = (cell, offset)
    if first_export is not None and default_exp is None:
        cell, offset = first_export
        yield problem(src, cell, "error", "L010",
                      "#| export cells but no #| default_exp in this file: "
                      "the exported code has no module to go to",
                      "add `#| default_exp <package.module>` to the first code cell", offset)


# --- L011 ----------------------------------------------------------------------------

def check_cell_roles(src: Source) -> Iterator[Problem]:
    """L011: roles nbgrader rejects for the cell type (markdown test cells, code task cells)."""
    for cell in src.cells:
        if cell.meta is None:
            continue
        grade, solution, task = cell.flag("grade"), cell.flag("solution"), cell.flag("task")
        if task and cell.kind != "markdown":
            yield problem(src, cell, "error", "L011", f"task {_label(cell)} is not markdown",
                          "make it a `# %% [markdown]` cell or set task: false")
        elif cell.kind == "markdown" and not task and grade != solution:
            role = "graded but not a solution" if grade else "a solution but not graded"
            yield problem(src, cell, "error", "L011",
                          f"markdown {_label(cell)} is {role} (nbgrader needs both for a "
                          "manually graded answer)", "set both grade and solution to true, "
                          "or neither")


# --- L012 ----------------------------------------------------------------------------

def check_near_miss_markers(src: Source) -> Iterator[Problem]:
    """L012: a line close to an nbgrader marker but not it (nbgrader would not strip the
    region). Raw cells too: they are published as they are."""
    for cell in src.cells:
        for offset, line in enumerate(cell.lines):
            marker = _marker(cell, line)
            if marker is not None and not marker.exact:
                yield problem(src, cell, "error", "L012",
                              f"`{line.strip()}` looks like `{marker.canonical}` but is not "
                              f"exactly it: a misspelled marker can leave the {marker.region} "
                              "in the student's notebook",
                              f"write exactly `{marker.canonical}`", offset)


# The rules, in the order they run (the order of problems on one line).
RULES: tuple[Rule, ...] = (
    check_metadata_json,        # L001
    check_metadata_keys,        # L002
    check_duplicate_ids,        # L003
    check_points,               # L004
    check_solution_markers,     # L005
    check_hidden_test_markers,  # L006
    check_test_cells_locked,    # L007
    check_syntax,               # L008
    check_test_functions,       # L009
    check_export_directives,    # L010
    check_cell_roles,           # L011
    check_near_miss_markers,    # L012
)
