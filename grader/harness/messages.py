"""One-line messages a student can act on, built from the engine's ErrorInfo.

The engine compiles each notebook cell as `<cell:KEY>` and each graded setup as
`<setup:KEY>`; the innermost frame in the student's own cells says where *their*
code failed, the innermost frame in the test says which check failed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:      # type only: the report pages use this module without the engine
    from grader.engine import ErrorInfo

FRAME = re.compile(r"^<(cell|setup):(.+)>$")
MAX_VALUE = 240


@dataclass
class CellLabel:
    label: str            # "cell 14 ('mse-loss')", "cell 3", "cell 'mse-loss' (restored ...)"
    text: str             # the cell's source, to quote the failing line


def _quote(text: str, lineno: int) -> str:
    lines = text.splitlines()
    if 1 <= lineno <= len(lines):
        line = lines[lineno - 1].strip()
        return f": `{line[:100]}`" if line else ""
    return ""


def short(value: str, limit: int = MAX_VALUE) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def describe_error(error: ErrorInfo, cells: dict[str, CellLabel],
                   function: str | None = None) -> str:
    head = f"{error.ename}: {short(error.evalue)}" if error.evalue else error.ename
    if error.ename == "NotImplementedError" and not error.evalue:
        head = "NotImplementedError (not written yet: replace the `raise NotImplementedError()`)"
    where = []
    student = next(((k, n, f) for kind, k, n, f in _frames(error) if kind == "cell"), None)
    test = next(((k, n, f) for kind, k, n, f in _frames(error) if kind == "setup"), None)
    if student is not None:
        key, lineno, func = student
        label = cells.get(key)
        text = f"in {label.label}, line {lineno}" if label else f"in cell {key}, line {lineno}"
        if func and func != "<module>":
            text += f" ({func})"
        where.append(text + (_quote(label.text, lineno) if label else ""))
    if test is not None and (student is None or function):
        key, lineno, func = test
        name = func if func and func != "<module>" else function
        where.append(f"checked by {name or 'the test'}, line {lineno}")
    elif function and student is None:
        where.append(f"while calling {function}()")
    return head + (" — " + "; ".join(where) if where else "")


def _frames(error: ErrorInfo):
    """(kind, key, lineno, function) innermost first, for our compiled cells only."""
    for filename, lineno, func in reversed(error.frames):
        match = FRAME.match(filename)
        if match:
            yield match.group(1), match.group(2), lineno, func


TRACE_FILE = re.compile(r'^(\s*)File "<(cell|setup):(.+?)>", line (\d+)(.*)$')


def _where(kind: str, key: str, lineno: str, rest: str, cells: dict[str, CellLabel]) -> str:
    label = cells.get(key)
    name = label.label if label else f"cell '{key}'"
    if kind == "setup":
        name = f"the test code of {name}"
    return f"{name[0].upper()}{name[1:]}, line {lineno}{rest}"


def traceback_excerpt(error: ErrorInfo | None, cells: dict[str, CellLabel] | None = None,
                      limit: int = 25) -> list[str]:
    """The traceback's last lines, each frame of a notebook cell named as the student
    sees it ("cell 14 ('mse-loss'), line 53") instead of the engine's `<cell:KEY>`."""
    if error is None:
        return []
    lines = name_cell_frames([l for block in error.traceback for l in block.splitlines()], cells)
    return lines[-limit:]


def name_cell_frames(lines: list[str], cells: dict[str, CellLabel] | None = None) -> list[str]:
    """Rewrite `File "<cell:KEY>", line N` frames (also in stored tracebacks) by name."""
    named = []
    for line in lines:
        match = TRACE_FILE.match(line)
        if match:
            indent, kind, key, lineno, rest = match.groups()
            line = indent + _where(kind, key, lineno, rest, cells or {})
        named.append(line)
    return named
