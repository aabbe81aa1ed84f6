"""A copy of the demo course for the foundation tests that change it (tests/support)."""
from __future__ import annotations

from pathlib import Path

import pytest

from support.demo_course import copy_course


@pytest.fixture
def course_root(tmp_path: Path) -> Path:
    copy_course(tmp_path)
    return tmp_path
