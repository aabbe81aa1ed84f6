"""What a lint rule reports: one problem at one line of one source file."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Problem:
    """A problem at `path:line` (1-based; for .ipynb the line of the cell's "cell_type" key)."""

    path: Path
    line: int
    severity: Severity
    code: str
    message: str
    fix: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def format(self) -> str:
        """`FILE:LINE: severity: CODE message (fix: ...)`, the one-line form editors understand."""
        fix = f" (fix: {self.fix})" if self.fix else ""
        return f"{self.path}:{self.line}: {self.severity}: {self.code} {self.message}{fix}"

    def __str__(self) -> str:
        return self.format()
