"""Turn a module (and a merged submission) into the engine's Job.

The graded calls always use the *source's* text: a test item re-executes its locked
cell from the source before calling its test functions (in the trusted driver, outside
the student's process: DESIGN.md "Trust model"), and each unit test is
re-defined from the source cell it lives in, so redefining or deleting a test in the
submission hides nothing (DESIGN.md, graded items 1 and 4).
"""
from __future__ import annotations

import ast
from pathlib import Path

from grader.course import Policy
from grader.engine import Call, Cell, Job, Limits
from grader.module import Module
from grader import pyast

UNIT_PREFIX = "unit:"
IN_KERNEL_NOTICE = ("this test ran inside the student's own Python process, as course.toml "
                    "asks (in_kernel = true), not in the trusted driver: its verdict is only "
                    "as trustworthy as a plain Jupyter kernel's")


def limits_of(policy: Policy, *, timeout_s: float | None = None,
              memory_mb: int | None = None) -> Limits:
    return Limits(cell_timeout_s=timeout_s or policy.cell_timeout_s,
                  call_timeout_s=timeout_s or policy.item_timeout_s,
                  memory_mb=memory_mb or policy.memory_mb,
                  output_cap_bytes=policy.output_cap_bytes,
                  submission_timeout_s=policy.submission_timeout_s,
                  disk_mb=policy.disk_mb, pids_max=policy.pids_max,
                  seed=policy.seed if policy.seed >= 0 else None)


def trusted_helpers(module: Module) -> list[tuple[str, str, bool]]:
    """(key, source, functions too) for the code cells of the source. The driver runs
    the library imports of all of them itself (numpy, math ...: never the student's
    modules) and the function definitions of the instructor's non-solution cells, so a
    student who redefines such a helper, or edits its cell, changes nothing in a
    locked test. Each source is cut down here, once per module, to those statements
    (other lines blank, so line numbers stay the cell's): the driver parses it per job."""
    cached = getattr(module, "_trusted_helpers", None)
    if cached is None:
        cached = []
        for cell in module.source.cells:
            if cell.cell.cell_type != "code":
                continue
            functions = not cell.nbgrader.get("solution")
            kept = _kept_statements(cell.source, functions)
            if kept:
                cached.append((cell.key, kept, functions))
        module._trusted_helpers = cached   # type: ignore[attr-defined]
    return cached


def _kept_statements(source: str, functions: bool) -> str:
    """The cell with only its top-level imports (and function definitions) left."""
    try:
        tree = pyast.parse(source)
    except (SyntaxError, ValueError):
        return source if functions else ""   # IPython syntax: the driver transforms it
    lines = source.splitlines()
    keep = [False] * len(lines)
    for node in tree.body:
        wanted = isinstance(node, (ast.Import, ast.ImportFrom)) or (
            functions and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)))
        if wanted:
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            for n in range(first - 1, (node.end_lineno or node.lineno)):
                keep[n] = True
    if not any(keep):
        return ""
    return "\n".join(line if k else "" for line, k in zip(lines, keep)) + "\n"


def job_for(module: Module, cells: list[Cell], calls: list[Call], *, workdir: Path | None,
            limits: Limits, framework: str | None) -> Job:
    return Job(cells=cells, calls=calls, workdir=workdir, limits=limits,
               helpers=trusted_helpers(module), framework=framework)


def graded_calls(module: Module, *, answered: set[str] | None = None,
                 in_kernel: frozenset[str] | set[str] = frozenset(),
                 self_check: bool = False) -> list[Call]:
    """Calls for the test items, the assessments and the unit tests, in source order.

    `answered`: the assessment ids whose answer cell the submission still has (a
    deleted answer cell is not called: it scores 0). `in_kernel`: test items the course
    runs inside the student's process (course.toml `in_kernel = true`); a self-check
    (which decides no grade) runs them all there and says nothing about it.
    """
    calls: list[Call] = []
    for item in module.items:
        if item.kind == "test":
            kernel = self_check or item.id in in_kernel
            calls.append(Call(key=item.id, setup=item.cell.source, functions=item.functions,
                              mode="kernel" if kernel else "driver",
                              notice=IN_KERNEL_NOTICE if kernel and not self_check else None))
        elif item.kind == "assessment" and item.functions:
            if answered is None or item.id in answered:
                calls.append(Call(key=item.id, setup=None, functions=item.functions[:1],
                                  want_value=True))
    for test in module.unit_tests:
        calls.append(Call(key=UNIT_PREFIX + test.name, setup=test.cell.source,
                          functions=[test.name]))
    return calls

