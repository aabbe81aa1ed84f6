from __future__ import annotations

from pathlib import Path

import pytest

from support.stats_course import write_stats_course


@pytest.fixture
def stats_course(tmp_path: Path) -> Path:
    return write_stats_course(tmp_path / "course")
