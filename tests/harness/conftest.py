"""A copy of the demo course in a temp folder, and a warm grading context for the
Training module, shared by the harness tests of one worker."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from grader.course import Course
from grader.harness.session import GradingContext, open_context
from grader.synth import release_of, solved
from support.demo_course import copy_course

MODULE = "09_training"


@pytest.fixture(scope="session")
def course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    return copy_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="session")
def training(course: Course) -> Iterator[GradingContext]:
    with open_context(course, MODULE, timeout_s=5) as ctx:
        yield ctx


@pytest.fixture(scope="session")
def release(course: Course):
    return release_of(course, MODULE)[1]


@pytest.fixture(scope="session")
def complete(course: Course, release):
    module, _ = release_of(course, MODULE)
    return solved(module, release)
