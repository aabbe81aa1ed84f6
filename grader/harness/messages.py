"""One-line messages a student can act on, built from the engine's ErrorInfo.

The engine compiles each notebook cell as `<cell:KEY>` and each graded setup as
`<setup:KEY>`; the innermost frame in the student's own cells says where *their*
code failed, the innermost frame in the test says which check failed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from grader.engine import ErrorInfo

FRAME = re.compile(r"^<(cell|setup):(.+)>$")
MAX_VALUE = 240


@dataclass
class CellLabel:
    label: str            # "cell 'mse-loss'" or "your cell 14"
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


def traceback_excerpt(error: ErrorInfo | None, limit: int = 25) -> list[str]:
    if error is None:
        return []
    lines = [l for block in error.traceback for l in block.splitlines()]
    return lines[-limit:]
