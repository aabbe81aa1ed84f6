from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from stats_course import write_stats_course  # noqa: E402


@pytest.fixture
def stats_course(tmp_path: Path) -> Path:
    return write_stats_course(tmp_path / "course")
