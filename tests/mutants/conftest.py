"""Fixtures of the `grader mutants` tests (the course itself: scale_course.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from support.scale_course import ROOT, write_scale_course


@pytest.fixture
def scale_course(tmp_path: Path) -> Path:
    return write_scale_course(tmp_path / "course")


@pytest.fixture(scope="session")
def demo_copy(tmp_path_factory) -> Path:
    """The demo course's course/, source/ and release/ in a temp folder."""
    dest = tmp_path_factory.mktemp("demo")
    for name in ("course", "source", "release"):
        shutil.copytree(ROOT / name, dest / name)
    return dest
