"""Merge a submitted notebook with its source, by grade_id (DESIGN.md, "Submissions").

- locked cells and test cells are restored from the source (notice `tampered` when
  the student's text differs from the released text);
- deleted locked/test cells are re-inserted where the source has them (`restored`);
- student-added cells keep their place; answer cells keep the student's text;
- whatever the submission says about points, locking or ids is ignored: metadata
  comes from the source, a submission's grade_id only says which cell it is;
- stale outputs are dropped.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import nbformat
from nbformat import NotebookNode

from grader.module import Module
from grader.nbgrader_metadata import is_protected
from grader.result import Notice
from grader.sources import SourceCell


@dataclass
class MergedCell:
    key: str                       # source key for matched cells, "student-N" otherwise
    cell: NotebookNode             # what runs / is shown (outputs cleared)
    origin: SourceCell | None      # the source cell it stands for
    student_index: int | None      # position in the submission (None: re-inserted)


@dataclass
class Merged:
    cells: list[MergedCell]
    notices: list[Notice] = field(default_factory=list)
    present: set[str] = field(default_factory=set)     # source keys the student kept

    def code_cells(self) -> list[MergedCell]:
        return [c for c in self.cells if c.cell.cell_type == "code"]

    def notebook(self, metadata: dict) -> NotebookNode:
        # what nbformat.v4.new_notebook builds, without validating an empty notebook
        # (which built the schema's validator, kept in memory for the whole batch); the
        # files written are checked in tests/autograde/test_batch.py
        nb = nbformat.from_dict({"nbformat": nbformat.v4.nbformat,
                                 "nbformat_minor": nbformat.v4.nbformat_minor,
                                 "metadata": metadata, "cells": []})
        nb.cells = [c.cell for c in self.cells]
        for index, cell in enumerate(nb.cells):    # nbformat 4.5 wants unique cell ids
            cell["id"] = f"cell-{index}"
        return nb


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _fresh(cell: NotebookNode, source: str, metadata: dict | None = None) -> NotebookNode:
    """A clean cell of the same type: no outputs, no execution count, no student metadata.
    (Built directly: nbformat's new_*_cell validates each cell, a third of merge time.)"""
    new = {"cell_type": cell.cell_type, "metadata": dict(metadata or {}), "source": source}
    if cell.cell_type == "code":
        new.update(outputs=[], execution_count=None)
    return nbformat.from_dict(new)


def merge(module: Module, submission: NotebookNode, released: NotebookNode) -> Merged:
    """`released` is the module's release notebook: the text students were given."""
    by_id: dict[str, SourceCell] = {c.grade_id: c for c in module.source.cells if c.grade_id}
    released_text = {c.metadata.get("nbgrader", {}).get("grade_id"): c.source
                     for c in released.cells}
    merged = Merged(cells=[])
    for index, cell in enumerate(submission.cells):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        grade_id = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        origin = by_id.get(grade_id) if isinstance(grade_id, str) else None
        if origin is not None and (origin.key in merged.present
                                   or origin.cell.cell_type != cell.cell_type):
            origin = None      # a copy of a graded cell, or retyped: the student's own
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if origin is None:
            merged.cells.append(MergedCell(key=f"student-{index}", cell=_fresh(cell, source),
                                           origin=None, student_index=index))
            continue
        merged.present.add(origin.key)
        metadata = {"nbgrader": origin.nbgrader}
        if is_protected(origin.nbgrader, origin.cell.cell_type):
            expected = released_text.get(origin.grade_id, origin.source)
            if _normalise(source) != _normalise(expected):
                merged.notices.append(Notice(
                    "tampered", origin.key,
                    f"the locked cell '{origin.key}' was edited; it was graded as released"))
            source = expected   # the released text: hidden tests never enter the kernel
        merged.cells.append(MergedCell(key=origin.key, cell=_fresh(cell, source, metadata),
                                       origin=origin, student_index=index))
    _reinsert_deleted(module, merged, released_text)
    return merged


def released_code(released: NotebookNode) -> set[str]:
    """The texts of the release's code cells: what every student was given."""
    return {c.source for c in released.cells if c.get("cell_type") == "code"}


def released_cells(module: Module, released: NotebookNode) -> list[tuple[str, str]]:
    """(key, text) of the code cells an untouched submission sends its kernel, as
    `merge` keys them: only text of `released`, what every student was given. The
    engine compiles these ahead (Engine.learn)."""
    given = released_code(released)
    return [(c.key, c.cell.source) for c in merge(module, released, released).code_cells()
            if c.cell.source in given]


def _reinsert_deleted(module: Module, merged: Merged, released_text: dict) -> None:
    """Put back deleted protected cells after the nearest source cell that is present."""
    for source_cell in module.source.cells:
        if not source_cell.grade_id or source_cell.key in merged.present:
            continue
        if not is_protected(source_cell.nbgrader, source_cell.cell.cell_type):
            continue
        position = 0
        for earlier in reversed(module.source.cells[:source_cell.index]):
            hits = [i for i, c in enumerate(merged.cells) if c.key == earlier.key]
            if hits:
                position = hits[0] + 1
                break
        released = released_text.get(source_cell.grade_id, source_cell.source)
        cell = _fresh(source_cell.cell, released, {"nbgrader": source_cell.nbgrader})
        merged.cells.insert(position, MergedCell(key=source_cell.key, cell=cell,
                                                 origin=source_cell, student_index=None))
        merged.present.add(source_cell.key)
        merged.notices.append(Notice(
            "restored", source_cell.key,
            f"the locked cell '{source_cell.key}' was missing; it was put back and graded"))
