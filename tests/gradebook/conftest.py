from __future__ import annotations

from pathlib import Path

import pytest

from postgres_server import postgres_url  # noqa: F401  (session fixture)
from support import training_samples


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    return training_samples.make_course(tmp_path / "course-root",
                                        submitted=("alice", "bob", "carol", "mallory"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gradebook.db'}"
