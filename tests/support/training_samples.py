"""Realistic result records of the Training module (09_training) and a temp course.

Shared by tests/gradebook and tests/reports (the latter loads this file by path).
The records follow DESIGN.md "Result of one submission" plus the optional keys
autograde adds (submitted_at, days_late, traceback, digests, isolation, line).
"""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
MODULE = "09_training"
NOTEBOOK = "training_dev.ipynb"

ROSTER = """id,name,email
alice,Alice Adams,alice@example.edu
bob,Bob Brown,bob@example.edu
carol,Carol Chen,carol@example.edu
dave,Dave Diaz,dave@example.edu
"""

ISOLATION = {
    "mode": "bubblewrap (unprivileged)",
    "guarantees": {"no_network": True, "private_filesystem": True, "memory_limit": True,
                   "separate_uid": False},
    "notes": ["Not running as root: the submission ran under your own uid inside bubblewrap."],
}

BATCH_FIELDS_RIGHT = [
    {"key": "model_memory_mb", "expected": 3.814697265625, "got": 3.814697265625, "ok": True},
    {"key": "training_memory_mb", "expected": 7.62939453125, "got": 7.62939453125, "ok": True},
    {"key": "optimal_batch_size", "expected": 171603, "got": 171603, "ok": True},
]
BATCH_FIELDS_WRONG = [
    {"key": "model_memory_mb", "expected": 3.814697265625, "got": 4.0, "ok": False},
    {"key": "training_memory_mb", "expected": 7.62939453125, "got": 7.62939453125, "ok": True},
    {"key": "optimal_batch_size", "expected": 171603, "got": 160000, "ok": False},
]
CONVERGENCE_FIELDS = [
    {"key": "optimal_lr", "expected": 0.01, "got": 0.01, "ok": True},
    {"key": "epochs_to_converge", "expected": 45, "got": 45, "ok": True},
]
THROUGHPUT_FIELDS = [
    {"key": "total_speedup", "expected": 6.48, "got": 6.48, "ok": True},
    {"key": "best_optimization", "expected": "Larger Batch Size", "got": "larger batch size ", "ok": True},
]


def _item(item_id: str, kind: str, points: float, score: float, status: str, message: str = "",
          **extra: Any) -> dict[str, Any]:
    return {"id": item_id, "kind": kind, "points": points, "score": score, "status": status,
            "message": message, **extra}


def training_result(student: str, variant: str = "full") -> dict[str, Any]:
    """variant: full | partial | crashed | late | error | missing."""
    items = [
        _item("test-training-comprehensive", "test", 25.0, 25.0, "passed", line=1727),
        _item("training-batch-size", "assessment", 5.0, 5.0, "passed",
              "all 3 values match", fields=copy.deepcopy(BATCH_FIELDS_RIGHT), line=2378),
        _item("training-convergence", "assessment", 5.0, 5.0, "passed",
              "all 2 values match", fields=copy.deepcopy(CONVERGENCE_FIELDS), line=2446),
        _item("training-throughput", "assessment", 5.0, 5.0, "passed",
              "all 2 values match", fields=copy.deepcopy(THROUGHPUT_FIELDS), line=2534),
    ]
    result: dict[str, Any] = {
        "student": student, "module": MODULE, "notebook": NOTEBOOK, "status": "graded",
        "score": 40.0, "max_score": 40.0, "late_penalty": 0.0, "items": items,
        "unit_tests": [{"name": "test_unit_mse_loss", "status": "passed", "message": ""},
                       {"name": "test_unit_trainer", "status": "passed", "message": ""}],
        "notices": [], "duration_s": 0.42,
        "submitted_at": "2026-11-09T21:14:03+00:00", "days_late": 0.0,
        "source_digest": "sha256:5f1c0a9e", "submission_digest": f"sha256:{student}-0001",
        "isolation": ISOLATION,
    }
    if variant == "partial":
        items[1].update(score=1.67, status="partial",
                        message="1 of 3 values match: check model_memory_mb, optimal_batch_size",
                        fields=copy.deepcopy(BATCH_FIELDS_WRONG))
        items[0].update(score=0.0, status="failed",
                        message="AssertionError: loss should decrease after 5 epochs",
                        traceback=["Traceback (most recent call last):",
                                   '  File "training_dev.py", line 1790, in test_training_comprehensive',
                                   "    assert history['train_loss'][-1] < history['train_loss'][0]",
                                   "AssertionError: loss should decrease after 5 epochs"])
        result["unit_tests"][1] = {"name": "test_unit_trainer", "status": "failed",
                                   "message": "AssertionError: Trainer.fit returned None"}
        result["notices"] = [{"kind": "tampered", "cell": "test-training-comprehensive",
                              "message": "this locked cell was changed; the original was restored"}]
        result["score"] = 16.67
    elif variant == "crashed":
        items[3].update(score=0.0, status="crashed",
                        message="the kernel died (segmentation fault) while calling "
                                "analyze_training_throughput()", fields=[])
        result["score"] = 35.0
    elif variant == "late":
        result.update(submitted_at="2026-11-11T12:00:00+00:00", days_late=1.5, late_penalty=8.0,
                      score=32.0)
        result["notices"] = [{"kind": "late", "cell": "",
                              "message": "submitted 1.5 days late: 2 started days, -20%"}]
    elif variant == "error":
        result.update(status="error", score=0.0, message="the notebook could not be started")
        for item in items:
            item.update(score=0.0, status="error", message="not run: the kernel did not start",
                        fields=[])
    elif variant == "missing":
        result.update(status="missing", score=0.0, notebook=None, items=[], unit_tests=[],
                      submitted_at=None, message="no training_dev.ipynb in the submission")
    elif variant != "full":
        raise ValueError(variant)
    return result


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
