from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import training_samples  # noqa: E402

from postgres_server import postgres_url  # noqa: E402,F401  (session fixture)


@pytest.fixture
def course_dir(tmp_path: Path) -> Path:
    return training_samples.make_course(tmp_path / "course-root",
                                        submitted=("alice", "bob", "carol", "mallory"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gradebook.db'}"
