"""The module model: what in a source is graded, exported and tested.

Built from a SourceNotebook by reading nbgrader metadata (DESIGN.md, "Graded items")
and the nbdev directives `#| default_exp` / `#| export`.
"""
from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Literal

from grader.nbgrader_metadata import is_grade, is_solution, is_task
from grader import pyast
from grader.sources import (SourceCell, SourceNotebook, find_module_source, find_module_sources,
                            read_source)

if TYPE_CHECKING:
    from grader.course import Course

ItemKind = Literal["test", "assessment", "manual"]
DEFAULT_EXP = re.compile(r"^#\|\s*default_exp\s+(\S+)\s*$", re.M)
EXPORT = re.compile(r"^#\|\s*export\s*$", re.M)
DIRECTIVE = re.compile(r"^#\|.*$")


@functools.lru_cache(maxsize=2048)
def python_source(source: str) -> str:
    """IPython cell source as plain Python (magics and `!` lines become calls)."""
    try:
        return pyast.ipython_transformer().transform_cell(source)
    except Exception:  # IPython rejects some malformed input; let ast report it
        return source


def top_level_functions(source: str) -> list[str]:
    """Names of functions defined at the top level of a cell, in order."""
    return list(_top_level_functions(source))


@functools.lru_cache(maxsize=2048)
def _top_level_functions(source: str) -> tuple[str, ...]:
    try:   # plain Python, which IPython's transforms leave as it is (no IPython import)
        tree = pyast.parse(source)
    except SyntaxError:
        try:
            tree = pyast.parse(python_source(source))
        except SyntaxError:
            return ()
    return tuple(node.name for node in tree.body
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))


@dataclass
class GradedItem:
    id: str
    kind: ItemKind
    points: float
    cell: SourceCell
    functions: list[str]       # test: every top-level test*; assessment: the first function
    task: bool = False         # manual: a task cell (the answer is elsewhere in the notebook)

    @property
    def line(self) -> int:
        return self.cell.line


@dataclass
class UnitTest:
    name: str
    cell: SourceCell


@dataclass
class Module:
    id: str                                  # folder name, e.g. "09_training"
    source: SourceNotebook
    items: list[GradedItem] = field(default_factory=list)
    unit_tests: list[UnitTest] = field(default_factory=list)
    export_target: str | None = None         # e.g. "core.training"
    export_cells: list[SourceCell] = field(default_factory=list)
    skip_unit_tests: tuple[str, ...] = ()    # course.toml: unit tests never called
    notebooks_in_module: int = 1             # how many notebooks the assignment has

    @property
    def cache_key(self) -> str:
        """Names this notebook's files under build/ (reference cache): the module id
        alone for a one-notebook module, else MODULE/STEM."""
        return self.id if self.notebooks_in_module == 1 else f"{self.id}/{self.stem}"

    @property
    def path(self) -> Path:
        return self.source.path

    @property
    def stem(self) -> str:
        return self.path.stem

    @property
    def notebook_name(self) -> str:
        return f"{self.stem}.ipynb"

    @property
    def max_score(self) -> float:
        return sum(item.points for item in self.items)

    def item(self, item_id: str) -> GradedItem:
        return next(i for i in self.items if i.id == item_id)

    def cell_by_key(self) -> dict[str, SourceCell]:
        return {cell.key: cell for cell in self.source.cells}

    def exported_code(self) -> str:
        """The export cells' code with the nbdev directive lines dropped."""
        chunks = []
        for cell in self.export_cells:
            body = "\n".join(l for l in cell.source.splitlines() if not DIRECTIVE.match(l))
            chunks.append(f"# {self.id}/{self.path.name}:{cell.line}\n{body.strip()}\n")
        return "\n\n".join(chunks)


AssessmentRule = Callable[[str], bool]   # grade_id -> declared a computational assessment


def classify(cell: SourceCell, is_assessment: AssessmentRule | None = None) -> ItemKind | None:
    """What a cell is worth, as nbgrader means it (DESIGN.md, "Graded items"): a task
    cell or a graded markdown cell is a manual item; a graded code cell is a test
    unless it is a solution; a graded solution code cell is a manual answer unless
    course.toml declares it a computational assessment."""
    meta = cell.nbgrader
    if is_task(meta) and cell.cell.cell_type in ("markdown", "raw"):
        return "manual"
    if not is_grade(meta):
        return None
    if cell.cell.cell_type == "markdown":
        return "manual"
    if cell.cell.cell_type != "code":
        return None
    if not is_solution(meta):
        return "test"
    return "assessment" if is_assessment is not None and is_assessment(cell.key) else "manual"


def build_module(source: SourceNotebook, module_id: str | None = None,
                 skip_unit_tests: tuple[str, ...] = (),
                 is_assessment: AssessmentRule | None = None,
                 notebooks_in_module: int = 1) -> Module:
    module = Module(id=module_id or source.path.parent.name, source=source,
                    skip_unit_tests=tuple(skip_unit_tests),
                    notebooks_in_module=notebooks_in_module)
    for cell in source.cells:
        kind = classify(cell, is_assessment)
        if cell.cell.cell_type == "code":
            match = DEFAULT_EXP.search(cell.source)
            if match and module.export_target is None:
                module.export_target = match.group(1)
            if EXPORT.search(cell.source):
                module.export_cells.append(cell)
        if kind is None:
            if cell.cell.cell_type == "code":
                module.unit_tests += [UnitTest(name=name, cell=cell)
                                      for name in top_level_functions(cell.source)
                                      if name.startswith("test")
                                      and name not in module.skip_unit_tests]
            continue
        functions = top_level_functions(cell.source) if kind != "manual" else []
        if kind == "test":
            functions = [f for f in functions if f.startswith("test")]
        elif kind == "assessment":
            functions = functions[:1]
        module.items.append(GradedItem(id=cell.key, kind=kind,
                                       points=float(cell.nbgrader.get("points", 0) or 0),
                                       cell=cell, functions=functions,
                                       task=is_task(cell.nbgrader)))
    return module


def _module_settings(course_root: Path, module_id: str, course: Course | None
                     ) -> tuple[tuple[str, ...], AssessmentRule | None]:
    from grader.course import COURSE_FILE, load_course
    if course is None:
        if not (course_root / COURSE_FILE).is_file():
            return (), None
        course = load_course(course_root)
    configs = {m.id: m for m in course.modules}
    skip = configs[module_id].skip_unit_tests if module_id in configs else ()
    return skip, (lambda item_id: course.is_assessment(module_id, item_id))


def load_module(course_root: Path, module_id: str, *, course: Course | None = None) -> Module:
    """The module NN_name of the course at course_root, with its course.toml settings
    (a module of one notebook; see load_notebooks for assignments of several).
    `course` is that course when the caller has read it already (course.toml is then
    not read again)."""
    skip, rule = _module_settings(course_root, module_id, course)
    path = find_module_source(course_root / "source" / module_id)
    return build_module(read_source(path, cache_dir=_parse_cache(course_root, course)),
                        module_id, skip, rule)


def load_notebooks(course_root: Path, module_id: str, *, course: Course | None = None
                   ) -> list[Module]:
    """Every notebook of a module (an nbgrader assignment), in file-name order."""
    skip, rule = _module_settings(course_root, module_id, course)
    paths = find_module_sources(course_root / "source" / module_id)
    cache_dir = _parse_cache(course_root, course)
    return [build_module(read_source(path, cache_dir=cache_dir), module_id, skip, rule,
                         len(paths))
            for path in paths]


def _parse_cache(course_root: Path, course: Course | None) -> Path | None:
    """build/sources of the course (parsed sources kept between runs), if it has one."""
    return course.build_dir / "sources" if course is not None else None
