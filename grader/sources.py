"""Read an instructor source (jupytext percent `.py`, or `.ipynb`) into a notebook.

Every cell keeps its nbgrader metadata and knows the `.py` line where it starts,
so every message about a source can name FILE:LINE instead of a cell index.
"""
from __future__ import annotations

import copy
import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from grader.errors import SourceError

# jupytext keeps these to round-trip the text layout; they mean nothing to grading.
JUPYTEXT_LAYOUT_KEYS = ("lines_to_next_cell", "cell_marker")
CELL_HEADER = "# %%"


@dataclass
class SourceCell:
    index: int                 # position in the notebook
    cell: NotebookNode
    line: int                  # 1-based line of the cell's header (`# %%`) in the .py file
    body_line: int             # 1-based line where the cell's source text starts

    @property
    def nbgrader(self) -> dict:
        return dict(self.cell.metadata.get("nbgrader", {}))

    @property
    def grade_id(self) -> str | None:
        return self.nbgrader.get("grade_id")

    @property
    def key(self) -> str:
        """Stable id within a module: the grade_id, else the cell's position."""
        return self.grade_id or f"cell-{self.index}"

    @property
    def source(self) -> str:
        return self.cell.source


@dataclass
class SourceNotebook:
    path: Path
    notebook: NotebookNode
    cells: list[SourceCell]
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def where(self, cell: SourceCell, line_in_cell: int | None = None) -> str:
        """FILE:LINE for a cell, or for a line (1-based) inside its source."""
        line = cell.line if line_in_cell is None else cell.body_line + line_in_cell - 1
        return f"{self.path}:{line}"


def _header_lines(lines: list[str]) -> list[int]:
    return [n for n, text in enumerate(lines, start=1) if text.startswith(CELL_HEADER)]


def _body_line(lines: list[str], header: int, source: str) -> int:
    """First line after the header where the cell's source begins."""
    first = next((s for s in source.splitlines() if s.strip()), None)
    if first is None:
        return header + 1
    for n in range(header + 1, min(len(lines), header + 200) + 1):
        if lines[n - 1].strip() == first.strip():
            return n
    return header + 1


def clean_metadata(cell: NotebookNode) -> None:
    for key in JUPYTEXT_LAYOUT_KEYS:
        cell.metadata.pop(key, None)


_parsed: dict[tuple[str, str], SourceNotebook] = {}   # (path, text) -> parsed, per process
_parsed_lock = threading.Lock()


def read_source(path: Path | str, *, cache_dir: Path | None = None) -> SourceNotebook:
    """Read a `.py` (jupytext percent) or `.ipynb` source. Raises SourceError.

    A text read before in this process is not parsed again (an autograde run reads the
    module once to plan and once per worker): the caller gets its own copy. With
    `cache_dir` (the course's build/sources), a `.py` text parsed by an earlier run is
    read back from there (grader/cache.py) instead of through jupytext."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read: {exc}", path=path) from None
    key = (str(path), text)
    with _parsed_lock:
        parsed = _parsed.get(key)
    if parsed is None:
        parsed = _parse_kept(path, text, cache_dir)
        with _parsed_lock:
            if len(_parsed) > 64:
                _parsed.clear()
            _parsed[key] = parsed
    return copy.deepcopy(parsed)


def _parse_kept(path: Path, text: str, cache_dir: Path | None) -> SourceNotebook:
    if cache_dir is None or path.suffix != ".py":
        return _parse_source(path, text)
    from grader import cache
    stem = f"{path.parent.name}-{path.stem}"
    name = f"{stem}-{cache.key(str(path.resolve()), text)}"
    kept = cache.read(cache_dir, name)
    if kept is not None:
        notebook = nbformat.from_dict(kept["notebook"])
        cells = [SourceCell(index=i, cell=c, line=line, body_line=body_line)
                 for i, (c, (line, body_line)) in enumerate(zip(notebook.cells, kept["lines"]))]
        return SourceNotebook(path=path, notebook=notebook, cells=cells, text=text)
    parsed = _parse_source(path, text)
    cache.write(cache_dir, name, {"notebook": parsed.notebook,
                                  "lines": [(c.line, c.body_line) for c in parsed.cells]},
                replaces=f"{stem}-")
    return parsed


def _parse_source(path: Path, text: str) -> SourceNotebook:
    if path.suffix == ".ipynb":
        try:
            notebook = nbformat.reads(text, as_version=4)
        except (json.JSONDecodeError, nbformat.reader.NotJSONError) as exc:
            raise SourceError(f"not a notebook: {exc}", path=path) from None
        cells = [SourceCell(index=i, cell=c, line=i + 1, body_line=i + 1)
                 for i, c in enumerate(notebook.cells)]
    elif path.suffix == ".py":
        try:
            import jupytext   # here: `grader check` reads only notebooks (0.2 s saved)
            notebook = jupytext.reads(text, fmt="py:percent")
        except Exception as exc:  # jupytext raises assorted types on bad input
            raise SourceError(f"jupytext cannot read it: {exc}", path=path) from None
        lines = text.splitlines()
        headers = _header_lines(lines)
        if len(headers) != len(notebook.cells):
            # Content before the first `# %%` becomes a cell of its own.
            headers = [1] * (len(notebook.cells) - len(headers)) + headers
        cells = []
        for i, (cell, header) in enumerate(zip(notebook.cells, headers)):
            clean_metadata(cell)
            cells.append(SourceCell(index=i, cell=cell, line=header,
                                    body_line=_body_line(lines, header, cell.source)))
    else:
        raise SourceError("not a source: expected a .py (jupytext percent) or .ipynb file", path=path)
    notebook.metadata.pop("jupytext", None)
    return SourceNotebook(path=path, notebook=notebook, cells=cells, text=text)


def is_notebook_source(path: Path) -> bool:
    """A notebook source: any .ipynb, or a .py in jupytext percent format (`# %%` cells);
    other .py files in an assignment folder are helpers that ship with it."""
    if path.name.startswith(".") or not path.is_file():
        return False
    if path.suffix == ".ipynb":
        return True
    if path.suffix != ".py":
        return False
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(line.startswith(CELL_HEADER) for line in text.splitlines())


def find_module_sources(module_dir: Path) -> list[Path]:
    """The notebook sources of a module (an nbgrader assignment), by file name:
    the `*_dev.py` files when there are any (TinyTorch), else every .ipynb and
    percent-format .py. When a notebook has both (a jupytext pair), the .py is the
    source."""
    if not module_dir.is_dir():
        raise SourceError("module folder does not exist", path=module_dir)
    dev = sorted(module_dir.glob("*_dev.py"))
    if dev:
        return dev
    found: dict[str, Path] = {}
    for path in sorted(module_dir.iterdir()):
        if is_notebook_source(path) and (path.stem not in found or path.suffix == ".py"):
            found[path.stem] = path
    if not found:
        raise SourceError("no notebook source (.ipynb or jupytext .py) in the module folder",
                          path=module_dir)
    return [found[stem] for stem in sorted(found)]


def find_module_source(module_dir: Path) -> Path:
    """The one source of a module folder: `*_dev.py`, else the only .py/.ipynb."""
    if not module_dir.is_dir():
        raise SourceError("module folder does not exist", path=module_dir)
    candidates = sorted(module_dir.glob("*_dev.py")) or sorted(
        p for p in module_dir.iterdir() if p.suffix in (".py", ".ipynb"))
    if len(candidates) != 1:
        found = ", ".join(p.name for p in candidates) or "none"
        raise SourceError(f"expected one *_dev.py source, found: {found}", path=module_dir)
    return candidates[0]
