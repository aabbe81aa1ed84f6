"""Generate the student notebooks under release/ with nbgrader's own preprocessors.

The stages, in order (nbgrader's `generate_assignment` minus its database):
ClearSolutions -> ClearHiddenTests -> ClearMarkScheme -> LockCells -> ClearOutput
-> ComputeChecksums. The notebook's metadata records the course, the module, the
source's hash and, per assessment, the shape of the reference answer (keys and value
types, never values) so `grader check` can tell a student whether an answer has the
right form.
"""
from __future__ import annotations

import copy
import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbgrader.preprocessors import (ClearHiddenTests, ClearMarkScheme, ClearOutput,
                                    ClearSolutions, ComputeChecksums, LockCells)

from grader.course import Course
from grader.module import Module, load_module

STAGES = (ClearSolutions, ClearHiddenTests, ClearMarkScheme, LockCells, ClearOutput,
          ComputeChecksums)
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
CELL_ID = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")


@dataclass
class ReleaseResult:
    module: str
    path: Path
    changed: bool              # the file on disk differs (was written, or is stale with check)
    diff: str = ""
    line: int = 1              # first line of the file on disk that differs


def release_path(course: Course, module: Module) -> Path:
    return course.release_dir / module.id / module.notebook_name


def build_release(course: Course, module: Module,
                  shapes: dict[str, Any] | None = None) -> NotebookNode:
    """The release notebook for a module (pure: nothing is written)."""
    nb = copy.deepcopy(module.source.notebook)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.metadata["language_info"] = {"name": "python"}
    resources: dict[str, Any] = {}
    for stage in STAGES:
        nb, resources = stage().preprocess(nb, resources)
    # Deterministic cell ids, so a release is byte-stable and `--check` is meaningful.
    for index, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        cell["id"] = grade_id if CELL_ID.match(grade_id or "") else f"cell-{index}"
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        if cell["id"] in seen:
            cell["id"] = f"cell-{index}"
        seen.add(cell["id"])
    nb.metadata["grader"] = {
        "course": course.id,
        "framework": course.framework,
        "module": module.id,
        "source": f"source/{module.id}/{module.path.name}",
        "source_sha256": module.source.sha256,
        "max_score": module.max_score,
        "assessments": shapes or {},
        "skip_unit_tests": list(module.skip_unit_tests),
    }
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nb


def render(nb: NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def release(course: Course, module_ids: list[str] | None = None, *, check: bool = False,
            shapes_for=None) -> list[ReleaseResult]:
    """Write (or with check=True, compare) release/NN_name/<stem>.ipynb per module.

    `shapes_for(module) -> dict` supplies the assessment answer shapes (it needs a
    reference run; see grader.harness.reference).
    """
    results = []
    for module_id in module_ids or [m.id for m in course.modules]:
        course.module(module_id)
        module = load_module(course.root, module_id)
        shapes = shapes_for(module) if shapes_for else None
        text = render(build_release(course, module, shapes))
        path = release_path(course, module)
        old = path.read_text(encoding="utf-8") if path.is_file() else None
        changed = old != text
        diff, line = "", 1
        if changed and old is not None:
            pairs = zip(old.splitlines(), text.splitlines())
            line = next((n for n, (a, b) in enumerate(pairs, start=1) if a != b),
                        min(len(old.splitlines()), len(text.splitlines())) + 1)
        if changed and check:
            diff = "".join(difflib.unified_diff(
                (old or "").splitlines(True), text.splitlines(True),
                fromfile=f"{path} (committed)", tofile=f"{path} (would be written)", n=1))
        if changed and not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".ipynb.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        results.append(ReleaseResult(module=module_id, path=path, changed=changed, diff=diff,
                                     line=line))
    return results
