"""Helpers shared by the attack tests (imported by name: tests/security is on sys.path)."""
from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from grader.harness.grade import Graded, grade_submission
from grader.harness.session import GradingContext
from grader.result import Result
from grader.synth import append_code

MODULE = "09_training"
NOTEBOOK = "training_dev.ipynb"
TEST = "test-training-comprehensive"
ASSESSMENTS = ["training-batch-size", "training-convergence", "training-throughput"]
FULL = 40.0

# Rewrites a frame that reports the verdict of a graded call into a pass. Used by the
# attacks that patch the code which reports results (today grader.engine.runner's
# {"ev": "call", "status": ...} frames). It leaves other messages alone: rewriting
# the replies of an in-kernel object server would only change how the student's own
# objects behave, which the student may do honestly anyway.
FORGE = '''
def _forge(ev):
    if (isinstance(ev, dict) and ev.get("ev") in ("call", "item", "result", "verdict")
            and ev.get("status") not in (None, "passed")):
        ev = dict(ev, status="passed", error=None, function=None)
    return ev

def _modname(cls):
    name = getattr(cls, "__module__", "")
    return name if isinstance(name, str) else ""
'''


class Grader:
    """Grades notebooks in fresh folders under tmp_path; remembers honest baselines.

    With a `bystander` (a grading context of its own and a complete notebook), every
    graded attack has a neighbour graded at the same time, in another sandbox, which
    must keep its full marks: nothing one submission does reaches another."""

    def __init__(self, tmp_path: Path, bystander: tuple[GradingContext, Any] | None = None
                 ) -> None:
        self.tmp_path = tmp_path
        self.n = 0
        self.bystander = bystander
        self.bystander_scores: list[float] = []

    def graded(self, ctx: GradingContext, nb: Any, student: str = "student") -> Graded:
        self.n += 1
        folder = self.tmp_path / f"sub{self.n}" / student / MODULE
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, folder / NOTEBOOK)
        return grade_submission(ctx, student, folder)

    def __call__(self, ctx: GradingContext, nb: Any, student: str = "student") -> dict:
        if self.bystander is None:
            return self.graded(ctx, nb, student).result.to_json()
        import threading
        neighbour: list[Any] = []
        thread = threading.Thread(target=lambda: neighbour.append(
            self.graded(self.bystander[0], self.bystander[1], "neighbour").result.to_json()))
        thread.start()
        try:
            return self.graded(ctx, nb, student).result.to_json()
        finally:
            thread.join()
            assert neighbour and neighbour[0]["score"] == FULL, (
                "the neighbour graded at the same time lost marks:\n"
                + (explain(neighbour[0]) if neighbour else "it was not graded"))
            self.bystander_scores.append(neighbour[0]["score"])

    def honest(self, ctx: GradingContext, nb: Any) -> float:
        """The attack-free baseline's score; it must leave room for a forged pass.
        Graded once per context and notebook in a run (many tests share a baseline)."""
        key = (id(ctx), hashlib.sha256(nbformat.writes(nb).encode()).hexdigest())
        if key not in _HONEST:
            result = self(ctx, nb)
            assert result["status"] == "graded", result
            _HONEST[key] = result["score"]
        score = _HONEST[key]
        assert score < FULL, "the baseline already earns full marks: the test cannot fail"
        return score

    def attack(self, ctx: GradingContext, nb: Any, code: str) -> dict:
        """Grade `nb` with the attack `code` appended; it must earn exactly the honest
        baseline's score. The result, for further checks."""
        honest = self.honest(ctx, nb)
        result = self(ctx, append_code(nb, code))
        assert_honest(result, honest)
        return result


_HONEST: dict[tuple[int, str], float] = {}


def items(result: dict | Result) -> dict[str, dict]:
    """The items of a result (or of result.json's object) by id, as result.json has them."""
    record = result.to_json() if isinstance(result, Result) else result
    return {i["id"]: i for i in record["items"]}


def outputs_text(graded: Graded) -> str:
    """Every stream output of the executed notebook, joined."""
    if graded.executed is None:
        return ""
    parts = []
    for cell in graded.executed.cells:
        for out in cell.get("outputs", []):
            text = out.get("text")
            if isinstance(text, list):
                text = "".join(text)
            if text:
                parts.append(text)
    return "".join(parts)


def explain(result: dict | Result) -> str:
    """A short description of a result for assertion messages."""
    if isinstance(result, Result):
        result = result.to_json()
    lines = [f"score {result['score']} status {result['status']}"]
    for i in result["items"]:
        lines.append(f"  {i['id']}: {i['score']} {i['status']} {i['message'][:160]!r}")
    for n in result["notices"]:
        lines.append(f"  notice {n['kind']}: {n['message'][:160]!r}")
    return "\n".join(lines)


def assert_honest(result: dict, honest: float) -> None:
    assert result["score"] == honest, (
        f"the attack changed the score from the honest {honest} to {result['score']}\n"
        + explain(result))


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (cgroups, namespaces)")


def wait_until(predicate: Callable[[], bool], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()
