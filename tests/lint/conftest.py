"""Helpers for the lint tests: broken sources are built by editing a copy of the seed."""
from __future__ import annotations

from pathlib import Path

import pytest

from lint_helpers import SEED


@pytest.fixture
def seed_text() -> str:
    if not SEED.is_file():
        pytest.skip(f"seed source not found at {SEED}")
    return SEED.read_text(encoding="utf-8")


@pytest.fixture
def make_source(tmp_path: Path, seed_text: str):
    """make_source((old, new), ...) -> a copy of the seed with each `old` (unique) replaced."""

    def make(*edits: tuple[str, str], name: str = "training_dev.py") -> Path:
        text = seed_text
        for old, new in edits:
            assert text.count(old) == 1, f"edit target not unique in the seed: {old!r}"
            text = text.replace(old, new)
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return make
