"""`grader lint`: check instructor sources before anything else reads them.

Rules work on raw `.py` text (jupytext percent format), so they also report on
files jupytext or nbgrader would reject; `.ipynb` files are read with nbformat.
Pipeline: scan (cells + lines) -> rules (RULES, in order) -> problems sorted by line.
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from grader.lint.fix import fix_file
from grader.lint.problems import Problem, Severity
from grader.lint.rules import RULES
from grader.lint.scan import UnreadableSource, scan_source

__all__ = ["Problem", "Severity", "RULES", "lint_file", "lint_paths", "fix_file"]



def lint_file(path: Path) -> list[Problem]:
    """Every problem in one source, sorted by line (rule order within a line)."""
    path = Path(path)
    try:
        source = scan_source(path)
    except UnreadableSource as exc:
        return [Problem(path, exc.line, "error", "L000", f"cannot read source: {exc}",
                        "save it as UTF-8 jupytext percent .py or a valid .ipynb")]
    problems = [found for rule in RULES for found in rule(source)]
    return sorted(problems, key=lambda p: p.line)


def lint_paths(paths: Iterable[Path]) -> list[Problem]:
    """Problems of several sources, file by file in the order given."""
    return [found for path in paths for found in lint_file(Path(path))]
