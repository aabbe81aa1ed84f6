"""Helpers shared by the lint tests (imported by name; tests/lint is on sys.path)."""
from __future__ import annotations

from pathlib import Path

# The supplied Training module, kept byte-identical in the course (source/09_training).
SEED = Path(__file__).resolve().parents[2] / "source/09_training/training_dev.py"


def line_of(path: Path, needle: str, nth: int = 1) -> int:
    """1-based line of the nth line containing `needle`."""
    hits = [i for i, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1) if needle in line]
    assert len(hits) >= nth, f"{needle!r} not found {nth} time(s) in {path}"
    return hits[nth - 1]
