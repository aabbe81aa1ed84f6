"""Split a source into cells, each knowing the file line it starts on.

`.py` sources are read as raw text (jupytext percent format), so lint also works
on files that jupytext or nbgrader reject: a `# %%` line starts a cell, whatever
follows it. `.ipynb` files are read with nbformat; since a JSON notebook has no
useful line per source line, every position in a cell maps to the line of the
cell's `"cell_type"` key and messages name the cell number.
"""
from __future__ import annotations

import ast
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from grader.nbgrader_metadata import is_solution, is_test, strict_flags
from grader import pyast


CellKind = Literal["code", "markdown", "raw"]

# jupytext accepts `# %%` and `#%%`; `# %%%` is not a cell marker.
HEADER = re.compile(r"^#\s?%%(?!%)(?P<rest>.*)$")
NBGRADER_KEY = re.compile(r"(?<![\w.-])nbgrader\s*=\s*")
CELL_TYPE_TAG = re.compile(r"\[(markdown|md|raw)\]")


class UnreadableSource(Exception):
    """The file cannot be split into cells at all (not UTF-8, not a notebook)."""

    def __init__(self, message: str, line: int = 1):
        super().__init__(message)
        self.line = line


@dataclass
class ScannedCell:
    """One cell. `lines` are the body lines without line endings."""

    number: int                     # 1-based position among the file's cells
    kind: CellKind
    header_line: int                # `# %%` line (.py) or `"cell_type"` line (.ipynb)
    body_start: int                 # file line of lines[0] (.py)
    lines: list[str]
    in_notebook: bool = False       # from an .ipynb: every body line maps to header_line
    meta_text: str | None = None    # raw `nbgrader=` value from a .py header
    meta_span: tuple[int, int] | None = None  # its columns in the header line (for --fix)
    meta: dict[str, Any] | None = None        # parsed metadata, when valid
    meta_error: str | None = None             # why the metadata could not be read
    _parsed: Any = field(default=None, repr=False)

    @property
    def has_metadata(self) -> bool:
        return self.meta is not None or self.meta_error is not None

    def flag(self, key: str) -> bool:
        """A boolean metadata key; absent or non-true counts as false (as nbgrader does)."""
        return self.meta is not None and self.meta.get(key) is True

    @property
    def is_solution(self) -> bool:
        return is_solution(strict_flags(self.meta))

    @property
    def is_test(self) -> bool:
        """A graded test cell: code, `grade: true, solution: false`."""
        return is_test(strict_flags(self.meta), self.kind)

    def line_of(self, offset: int | None) -> int:
        """File line of body line `offset` (0-based); None means the header."""
        if offset is None or self.in_notebook:
            return self.header_line
        return self.body_start + offset

    def where(self, offset: int | None = None) -> str:
        """Message prefix locating a position inside an .ipynb cell ('' for .py)."""
        if not self.in_notebook:
            return ""
        return f"cell {self.number}: " if offset is None else f"cell {self.number}, line {offset + 1}: "


@dataclass
class Source:
    path: Path
    cells: list[ScannedCell]
    lines: list[str]                # the raw file lines (.py only; [] for .ipynb)
    is_notebook: bool = False


def scan_source(path: Path) -> Source:
    """Read a `.ipynb` with nbformat, anything else as a percent-format `.py`."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableSource(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if path.suffix == ".ipynb":
        return _read_notebook(path, text)
    return _read_percent(path, text)


# --- .py (jupytext percent) ------------------------------------------------------

def split_lines(text: str) -> list[str]:
    """Split on '\\n' only (str.splitlines also splits on form feeds etc., shifting lines)."""
    return text.split("\n")


def _read_percent(path: Path, text: str) -> Source:
    raw = split_lines(text)
    lines = [line[:-1] if line.endswith("\r") else line for line in raw]
    headers = [i for i, line in enumerate(lines) if HEADER.match(line)]
    cells: list[ScannedCell] = []

    first = headers[0] if headers else len(lines)
    start = _skip_yaml_header(lines, first)
    preamble = lines[start:first]
    if any(line.strip() for line in preamble):
        lead = next(i for i, line in enumerate(preamble) if line.strip())
        cells.append(ScannedCell(number=1, kind="code", header_line=start + lead + 1,
                          body_start=start + 1, lines=_trim(preamble)))

    for n, index in enumerate(headers):
        end = headers[n + 1] if n + 1 < len(headers) else len(lines)
        rest = HEADER.match(lines[index]).group("rest")  # type: ignore[union-attr]
        cell = ScannedCell(number=len(cells) + 1, kind="code", header_line=index + 1,
                    body_start=index + 2, lines=_trim(lines[index + 1:end]))
        tag_text = rest
        found = NBGRADER_KEY.search(rest)
        if found:
            offset = len(lines[index]) - len(rest)
            value_start = found.end()
            value_end = _value_end(rest, value_start)
            cell.meta_text = rest[value_start:value_end]
            cell.meta_span = (offset + value_start, offset + value_end)
            cell.meta, cell.meta_error = parse_metadata(cell.meta_text)
            tag_text = rest[:found.start()] + rest[value_end:]
        tag = CELL_TYPE_TAG.search(tag_text)
        if tag:
            cell.kind = "raw" if tag.group(1) == "raw" else "markdown"
        cells.append(cell)
    return Source(path=path, cells=cells, lines=lines)


def _skip_yaml_header(lines: list[str], limit: int) -> int:
    """Index of the first line after jupytext's `# ---` ... `# ---` header (0 if none)."""
    if limit > 0 and lines[0].strip() == "# ---":
        for i in range(1, limit):
            if lines[i].strip() == "# ---":
                return i + 1
    return 0


def _trim(body: list[str]) -> list[str]:
    """Drop trailing blank lines (jupytext's separator lines are not part of a cell)."""
    end = len(body)
    while end and not body[end - 1].strip():
        end -= 1
    return body[:end]


def _value_end(text: str, start: int) -> int:
    """End of the `nbgrader=` value: its matching `}`, else the end of the line.

    Both quote kinds delimit strings here, so a value written with single quotes
    is still delimited correctly and rule L001 can say what is wrong with it.
    """
    if start >= len(text) or text[start] != "{":
        match = re.match(r"\S*", text[start:])
        return start + (match.end() if match else 0)
    depth, quote, i = 0, "", start
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text.rstrip())


def parse_metadata(text: str) -> tuple[dict[str, Any] | None, str | None]:
    """(metadata, None) when `text` is a JSON object, else (None, what is wrong)."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, explain_json_error(text, exc)
    if not isinstance(value, dict):
        return None, f"it is a JSON {type(value).__name__}, not an object {{...}}"
    return value, None


def explain_json_error(text: str, exc: json.JSONDecodeError) -> str:
    """Name the usual culprit (Python-style dicts) rather than only the decoder's message."""
    detail = f"{exc.msg} at column {exc.pos + 1}"
    outside = _outside_double_quotes(text)
    if not text.strip():
        return "the value is empty"
    if "'" in outside:
        return f"single quotes; JSON needs double quotes ({detail})"
    if re.search(r",\s*[}\]]", outside):
        return f"trailing comma before a closing bracket ({detail})"
    literal = re.search(r"\b(True|False|None)\b", outside)
    if literal:
        return f"Python literal {literal.group(1)}; JSON uses true/false/null ({detail})"
    if outside.count("{") > outside.count("}"):
        return f"unclosed '{{' ({detail})"
    return detail


def _outside_double_quotes(text: str) -> str:
    """`text` with the contents of double-quoted strings removed."""
    return re.sub(r'"(?:\\.|[^"\\])*"', '""', text)


_NAMES = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}


def lenient_object(text: str) -> dict[str, Any] | None:
    """Read a Python-style dict literal (quotes, trailing commas, True/true); None if not one."""
    try:
        tree = pyast.parse(text.strip(), mode="eval").body
        value = _literal(tree)
    except (SyntaxError, ValueError):
        return None
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        return None
    return value


def _literal(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool, type(None))):
        return node.value
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _literal(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value
    if isinstance(node, ast.Dict) and all(key is not None for key in node.keys):
        return {_literal(key): _literal(value) for key, value in zip(node.keys, node.values)}
    if isinstance(node, ast.List):
        return [_literal(item) for item in node.elts]
    raise ValueError(f"not a JSON-like literal: {ast.dump(node)}")


# --- .ipynb ------------------------------------------------------------------------

def _read_notebook(path: Path, text: str) -> Source:
    import nbformat  # slow to import (jsonschema); only notebooks need it

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. missing cell ids: not a lint problem
            nb = nbformat.reads(text, as_version=4)
    except json.JSONDecodeError as exc:
        raise UnreadableSource(f"not a JSON notebook: {exc.msg}", exc.lineno) from None
    except Exception as exc:  # nbformat raises several types for non-notebooks
        raise UnreadableSource(f"not a readable notebook: {exc}") from None
    positions = cell_type_lines(text)
    cells: list[ScannedCell] = []
    for i, nb_cell in enumerate(nb.cells):
        kind = nb_cell.get("cell_type", "code")
        line = positions[i] if i < len(positions) else 1
        cell = ScannedCell(number=i + 1, kind=kind if kind in ("code", "markdown", "raw") else "raw",
                    header_line=line, body_start=line,
                    lines=split_lines(nb_cell.get("source", "")), in_notebook=True)
        meta = nb_cell.get("metadata", {}).get("nbgrader")
        if meta is not None:
            if isinstance(meta, dict):
                cell.meta = dict(meta)
            else:
                cell.meta_error = f"it is a JSON {type(meta).__name__}, not an object {{...}}"
        cells.append(cell)
    return Source(path=path, cells=cells, lines=[], is_notebook=True)


def cell_type_lines(text: str) -> list[int]:
    """1-based line of each cell's `"cell_type"` key, in cell order.

    A small JSON scanner tracking nesting: only keys of objects directly inside
    the top-level "cells" array count (nbgrader metadata may hold a "cell_type" too).
    """
    found: list[int] = []
    stack: list[tuple[str, str | None]] = []  # (bracket, key it is the value of)
    pending_key: str | None = None
    line, i, n = 1, 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            k = j + 1
            while k < n and text[k] in " \t\r\n":
                k += 1
            if stack and stack[-1][0] == "{" and k < n and text[k] == ":":
                pending_key = text[i + 1:j]
                if (pending_key == "cell_type" and len(stack) == 3
                        and stack[1] == ("[", "cells") and stack[2][0] == "{"):
                    found.append(line)
            i = j
        elif c in "{[":
            stack.append((c, pending_key if stack and stack[-1][0] == "{" else None))
            pending_key = None
        elif c in "}]" and stack:
            stack.pop()
        i += 1
    return found
