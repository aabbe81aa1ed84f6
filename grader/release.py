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

from grader.course import Course
from grader.errors import SourceError, SourceProblems
from grader.files import write_atomic
from grader.markers import find_marker
from grader.module import Module, load_notebooks



def stages() -> tuple[type, ...]:
    """nbgrader's preprocessors, in generate_assignment's order. Imported when a release
    is built: importing nbgrader costs about a second, which `grader check` never needs."""
    from nbgrader.preprocessors import (ClearHiddenTests, ClearMarkScheme, ClearOutput,
                                        ClearSolutions, ComputeChecksums, LockCells)
    return (ClearSolutions, ClearHiddenTests, ClearMarkScheme, LockCells, ClearOutput,
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
    for stage in stages():
        try:
            nb, resources = stage().preprocess(nb, resources)
        except Exception as exc:  # nbgrader raises bare RuntimeErrors on bad markers
            raise _stage_error(module, stage, exc) from None
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


def release_for_grading(course: Course, module: Module,
                        shapes: dict[str, Any] | None = None) -> NotebookNode:
    """build_release, kept under build/releases/ (grader/cache.py) by everything it is
    built from: grading needs the release to tell edited cells from released ones, and
    building it imports nbgrader (half a second) in a run that would not otherwise."""
    from importlib.metadata import version

    from grader import cache
    folder = course.build_dir / "releases"
    stem = module.cache_key.replace("/", "-")
    name = f"{stem}-" + cache.key(module.source.sha256, course.id, course.framework, module.id,
                                  module.path.name, module.max_score,
                                  list(module.skip_unit_tests), shapes or {},
                                  version("nbgrader"), nbformat.__version__)
    kept = cache.read(folder, name)
    if kept is not None:
        return nbformat.from_dict(kept)
    nb = build_release(course, module, shapes)
    cache.write(folder, name, nb, replaces=f"{stem}-")
    return nb


def _stage_error(module: Module, stage: type, exc: Exception) -> SourceError:
    """The nbgrader stage's failure as FILE:LINE of the first cell it fails on."""
    line = 1
    for cell in module.source.cells:
        single = nbformat.v4.new_notebook(cells=[copy.deepcopy(cell.cell)])
        try:
            stage().preprocess(single, {})
        except Exception:
            line = cell.line
            break
    return SourceError(f"nbgrader's {stage.__name__} cannot process this cell: {exc} "
                       "(`grader lint` says more)", path=module.path, line=line)


def leaks(module: Module, nb: NotebookNode, root: Path | None = None) -> list[str]:
    """What of the source's marked regions the release notebook `nb` still holds.

    Independent of lint and of nbgrader: every line that is, or is close to, a
    BEGIN/END SOLUTION or HIDDEN TESTS marker is a leak, and so is every line of a
    region such markers enclose (a region with no end runs to the end of its cell)
    that the released cell still contains, unless the same line also stands outside
    the regions of that cell. Each leak is `FILE:LINE: message` at the source line.
    """
    path = module.path
    if root is not None and path.is_relative_to(root):
        path = path.relative_to(root)

    def where(cell, number: int) -> str:
        return f"{path}:{cell.body_line + number - 1}"

    found: list[str] = []
    stubs = {"# YOUR CODE HERE", "raise NotImplementedError()", "YOUR ANSWER HERE"}
    for source_cell, released in zip(module.source.cells, nb.cells):
        markdown = released.cell_type != "code"  # raw cells are published verbatim too
        lines = source_cell.source.splitlines()
        inside: dict[str, int] = {}
        outside: set[str] = set()
        opened = False
        for number, line in enumerate(lines, start=1):
            marker = find_marker(line, markdown=markdown)
            if marker is not None:
                opened = marker.edge == "begin"
            elif opened:
                inside.setdefault(line.strip(), number)
            else:
                outside.add(line.strip())
        for line in released.source.splitlines():
            text = line.strip()
            marker = find_marker(line, markdown=markdown)
            if marker is not None:
                number = next((n for n, s in enumerate(lines, 1) if s.strip() == text), 1)
                found.append(f"{where(source_cell, number)}: the release would "
                             f"keep the line `{text}` (read as {marker.canonical}) and the "
                             f"{marker.region} it marks")
            elif text and text in inside and text not in outside and text not in stubs:
                found.append(f"{where(source_cell, inside[text])}: the release "
                             f"would show students this line of a marked region: `{text}`")
    return found


def render(nb: NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def release(course: Course, module_ids: list[str] | None = None, *, check: bool = False,
            shapes_for=None) -> list[ReleaseResult]:
    """Write (or with check=True, compare) release/NN_name/<stem>.ipynb per module.

    Every notebook is built and checked for leaks (`leaks`) before any is written:
    a leak raises SourceProblems and nothing is written. `shapes_for(module) -> dict`
    supplies the assessment answer shapes (it needs a reference run; see
    grader.harness.reference).
    """
    built: list[tuple[str, Path, str]] = []
    found: list[str] = []
    for module_id in module_ids or [m.id for m in course.modules]:
        course.module(module_id)
        for module in load_notebooks(course.root, module_id, course=course):  # an assignment's
            shapes = shapes_for(module) if shapes_for else None
            nb = build_release(course, module, shapes)
            found += leaks(module, nb, course.root)
            built.append((module_id, release_path(course, module), render(nb)))
    if found:
        raise SourceProblems(f"release refused: {len(found)} line(s) of solutions or hidden "
                             "tests would reach students; nothing was written", found)
    results = []
    for module_id, path, text in built:
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
            write_atomic(path, text)
        results.append(ReleaseResult(module=module_id, path=path, changed=changed, diff=diff,
                                     line=line))
    return results
