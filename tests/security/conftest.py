"""Attack suite for issue 10 (grades no submission can forge).

A student who has read grader's source attacks the grading of the Training module
from inside their own notebook. Every test grades an attacking submission built from
the release (grader.synth) and asserts its HONEST score: what the same submission
earns without the attack cell, or, where the attack is honest behaviour of the
student's own objects, what a plain Jupyter kernel would decide (worked out by hand
in the test's docstring). Resource attacks also grade a neighbour at the same time
and assert that the neighbour keeps full marks.

The demo course, its 09_training grading context and the complete solution come from
tests/support/demo_course.py (as for the harness tests); the baselines are below.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from grader.course import Course
from grader.harness.session import GradingContext, open_context
from grader.synth import edit, replace, solved
from support.demo_course import complete, course, module, release, training  # noqa: F401
from security_helpers import ASSESSMENTS, MODULE, Grader


@pytest.fixture(scope="session")
def broken_mse(complete):
    """A complete solution whose MSE is off by one: the locked test fails, the three
    assessments pass, 15/40."""
    return edit(complete, "mse-loss", replace(
        "        mean_data = np.mean(squared_diff_data)\n",
        "        mean_data = np.mean(squared_diff_data) + 1.0\n"))


@pytest.fixture(scope="session")
def broken_trainer(complete):
    """A complete solution whose Trainer keeps every metric twice: 15/40."""
    return edit(complete, "trainer-class", replace(
        "        self.metrics = metrics or []\n",
        "        self.metrics = list(metrics or []) * 2\n"))


@pytest.fixture(scope="session")
def answers_only(module, release):
    """The release with only the three assessment cells answered (MSE, Trainer... still
    raise NotImplementedError): 15/40."""
    nb = solved(module, release)
    answered = set(ASSESSMENTS)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid and cell.metadata["nbgrader"].get("solution") and gid not in answered:
            cell.source = next(c.source for c in release.cells
                               if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
    return nb


@pytest.fixture(scope="session")
def bystander_ctx(course: Course) -> Iterator[GradingContext]:
    """A second engine: the neighbour graded beside every attack."""
    with open_context(course, MODULE, timeout_s=5) as ctx:
        yield ctx


@pytest.fixture
def grade(tmp_path: Path, bystander_ctx, complete) -> Grader:
    """Grades the attack and, at the same time, a complete neighbour (must keep 40)."""
    return Grader(tmp_path, bystander=(bystander_ctx, complete))


