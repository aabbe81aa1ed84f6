from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from browser_support import RecordingPage
from support import training_samples   # shared with tests/gradebook


@pytest.fixture
def page(browser) -> Iterator[RecordingPage]:
    recording = RecordingPage(browser)
    try:
        yield recording
    finally:
        recording.context.close()


@pytest.fixture
def phone(browser) -> Iterator[RecordingPage]:
    """A page at a phone's width (390 x 844 CSS pixels, an iPhone 12-15)."""
    recording = RecordingPage(browser, width=390, height=844)
    try:
        yield recording
    finally:
        recording.context.close()


@pytest.fixture
def make_course(tmp_path: Path):
    def make(*, show_expected: bool = False, name: str = "course-root") -> Path:
        return training_samples.make_course(tmp_path / name, show_expected=show_expected,
                                            submitted=("alice", "bob", "carol", "mallory"))
    return make
