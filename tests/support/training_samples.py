"""Realistic result records of the Training module (09_training) and a temp course.

Shared by tests/gradebook and tests/reports. The records are built from grader.result's
types (what the harness produces), so a fixture cannot hold a status, notice kind or
isolation report the harness never writes.
"""
from __future__ import annotations

import copy
from dataclasses import replace
from pathlib import Path
from typing import Any

from grader.result import Field, Isolation, ItemResult, Notice, Result, UnitTestResult

REPO = Path(__file__).resolve().parents[2]
MODULE = "09_training"
NOTEBOOK = "training_dev.ipynb"

ROSTER = """id,name,email
alice,Alice Adams,alice@example.edu
bob,Bob Brown,bob@example.edu
carol,Carol Chen,carol@example.edu
dave,Dave Diaz,dave@example.edu
"""

# what the engine reports without root: user namespaces, no unprivileged uid
ISOLATION = Isolation(
    mode="userns",
    guarantees={"memory_limit": True, "process_limit": True, "disk_limit": True,
                "no_leftover_processes": True, "no_network": True, "private_filesystem": True,
                "unprivileged_uid": False, "trusted_tests": True},
    notes=["not root: the sandbox runs in a user namespace as the grader's own uid"],
)

BATCH_FIELDS_RIGHT = [
    Field("model_memory_mb", expected=3.814697265625, got=3.814697265625, ok=True),
    Field("training_memory_mb", expected=7.62939453125, got=7.62939453125, ok=True),
    Field("optimal_batch_size", expected=171603, got=171603, ok=True),
]
BATCH_FIELDS_WRONG = [
    Field("model_memory_mb", expected=3.814697265625, got=4.0, ok=False),
    Field("training_memory_mb", expected=7.62939453125, got=7.62939453125, ok=True),
    Field("optimal_batch_size", expected=171603, got=160000, ok=False),
]
CONVERGENCE_FIELDS = [
    Field("optimal_lr", expected=0.01, got=0.01, ok=True),
    Field("epochs_to_converge", expected=45, got=45, ok=True),
]
THROUGHPUT_FIELDS = [
    Field("total_speedup", expected=6.48, got=6.48, ok=True),
    Field("best_optimization", expected="Larger Batch Size", got="larger batch size ", ok=True),
]


def training_record(student: str, variant: str = "full") -> Result:
    """variant: full | partial | crashed | late | error | missing."""
    items = [
        ItemResult("test-training-comprehensive", "test", 25.0, 25.0, "passed", "", line=1727),
        ItemResult("training-batch-size", "assessment", 5.0, 5.0, "passed", "all 3 values match",
                   fields=copy.deepcopy(BATCH_FIELDS_RIGHT), line=2378),
        ItemResult("training-convergence", "assessment", 5.0, 5.0, "passed",
                   "all 2 values match", fields=copy.deepcopy(CONVERGENCE_FIELDS), line=2446),
        ItemResult("training-throughput", "assessment", 5.0, 5.0, "passed",
                   "all 2 values match", fields=copy.deepcopy(THROUGHPUT_FIELDS), line=2534),
    ]
    result = Result(
        student=student, module=MODULE, notebook=NOTEBOOK, status="graded", score=40.0,
        max_score=40.0, items=items,
        unit_tests=[UnitTestResult("test_unit_mse_loss", "passed", ""),
                    UnitTestResult("test_unit_trainer", "passed", "")],
        duration_s=0.42, submitted_at="2026-11-09T21:14:03+00:00", days_late=0.0,
        source_digest="sha256:5f1c0a9e", submission_digest=f"sha256:{student}-0001",
        isolation=copy.deepcopy(ISOLATION), restarts=0)
    if variant == "partial":
        items[1] = replace(items[1], score=1.67, status="partial",
                           message="1 of 3 values match: check model_memory_mb, optimal_batch_size",
                           fields=copy.deepcopy(BATCH_FIELDS_WRONG))
        items[0] = replace(items[0], score=0.0, status="failed",
                           message="AssertionError: loss should decrease after 5 epochs",
                           traceback=["Traceback (most recent call last):",
                                      '  File "training_dev.py", line 1790, in test_training_comprehensive',
                                      "    assert history['train_loss'][-1] < history['train_loss'][0]",
                                      "AssertionError: loss should decrease after 5 epochs"])
        result.unit_tests[1] = UnitTestResult("test_unit_trainer", "failed",
                                              "AssertionError: Trainer.fit returned None")
        result.notices = [Notice("tampered", "test-training-comprehensive",
                                 "this locked cell was changed; the original was restored")]
        result.score = 16.67
    elif variant == "crashed":
        items[3] = replace(items[3], score=0.0, status="crashed", fields=[],
                           message="the kernel died (segmentation fault) while calling "
                                   "analyze_training_throughput()")
        result.score = 35.0
    elif variant == "late":
        result.submitted_at, result.days_late = "2026-11-11T12:00:00+00:00", 1.5
        result.late_penalty, result.score = 8.0, 32.0
        result.notices = [Notice("late", None, "submitted 1.5 days late: 2 started days, -20%")]
    elif variant == "error":
        result.status, result.score = "error", 0.0
        result.items = [replace(item, score=0.0, status="error", fields=[],
                                message="grading failed: the kernel did not start")
                        for item in items]
        result.unit_tests, result.isolation, result.restarts = [], None, None
    elif variant == "missing":
        result.status, result.score, result.submitted_at = "missing", 0.0, None
        result.items = [replace(item, score=0.0, status="missing", fields=[],
                                message=f"no notebook submitted (expected {NOTEBOOK})")
                        for item in items]
        result.unit_tests, result.isolation, result.restarts = [], None, None
    elif variant != "full":
        raise ValueError(variant)
    return result


def training_result(student: str, variant: str = "full") -> dict[str, Any]:
    """training_record as result.json holds it."""
    return training_record(student, variant).to_json()


def make_course(root: Path, *, roster: str = ROSTER, show_expected: bool = False,
                submitted: tuple[str, ...] = ()) -> Path:
    """A course folder with the project's course.toml, a roster and submitted/ folders."""
    (root / "course").mkdir(parents=True, exist_ok=True)
    toml = (REPO / "course" / "course.toml").read_text(encoding="utf-8")
    if show_expected:
        toml = toml.replace("show_expected = false", "show_expected = true")
        assert "show_expected = true" in toml
    (root / "course" / "course.toml").write_text(toml, encoding="utf-8")
    (root / "course" / "roster.csv").write_text(roster, encoding="utf-8")
    for student in submitted:
        folder = root / "submitted" / student / MODULE
        folder.mkdir(parents=True, exist_ok=True)
        (folder / NOTEBOOK).write_text('{"cells": [], "metadata": {}, "nbformat": 4, '
                                       '"nbformat_minor": 5}\n', encoding="utf-8")
        (folder / "timestamp.txt").write_text("2026-11-09 21:14:03.000000 UTC\n")
    return root


def class_results() -> list[dict[str, Any]]:
    """One Training result per kind of outcome; `mallory` is not on the roster."""
    return [training_result("alice", "full"), training_result("bob", "partial"),
            training_result("carol", "late"), training_result("mallory", "crashed")]
