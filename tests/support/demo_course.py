"""A copy of the demo course (course.toml, sources, releases) in a temp folder, and the
Training module's fixtures on it: what the harness and security tests grade against,
so no test writes into the checkout. A conftest takes the fixtures by importing them:
`from support.demo_course import course, training, module, release, complete`."""
from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.course import Course, load_course
from grader.harness.session import GradingContext, open_context
from grader.synth import release_of, solved

ROOT = Path(__file__).resolve().parents[2]
MODULE = "09_training"


def copy_course(dest: Path, parts: tuple[str, ...] = ("course", "source", "release")) -> Course:
    for name in parts:
        shutil.copytree(ROOT / name, dest / name)
    return load_course(dest)


@pytest.fixture(scope="session")
def course(tmp_path_factory: pytest.TempPathFactory) -> Course:
    return copy_course(tmp_path_factory.mktemp("course"))


@pytest.fixture(scope="session")
def training(course: Course) -> Iterator[GradingContext]:
    """A warm grading context for 09_training: 5 s per cell and per graded call."""
    with open_context(course, MODULE, timeout_s=5) as ctx:
        yield ctx


@pytest.fixture(scope="session")
def module(course: Course):
    return release_of(course, MODULE)[0]


@pytest.fixture(scope="session")
def release(course: Course):
    return release_of(course, MODULE)[1]


@pytest.fixture(scope="session")
def complete(module, release):
    """Every answer cell as the source answers it: 40/40."""
    return solved(module, release)


def run_grader(root: Path, *args: str, cwd: Path | None = None,
               timeout: float = 300) -> "subprocess.CompletedProcess[str]":
    """The real console script on a course folder."""
    import subprocess
    import sys
    grader = Path(sys.executable).parent / "grader"
    return subprocess.run([str(grader), "--course", str(root), *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd)
