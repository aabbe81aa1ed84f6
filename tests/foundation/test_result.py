"""grader/result.py: the typed result.json. Every record round-trips exactly, and a
record that is not result.json's shape is refused with the field that is wrong."""
from __future__ import annotations

import copy
import json

import pytest

from grader.result import SCHEMA_VERSION, Field, ItemResult, Notice, Result, ResultFormatError
from support.training_samples import training_record, training_result

VARIANTS = ("full", "partial", "crashed", "late", "error", "missing")


@pytest.mark.parametrize("variant", VARIANTS)
def test_records_round_trip_exactly(variant):
    record = training_record("alice", variant)
    data = json.loads(json.dumps(record.to_json()))      # through real JSON text
    assert Result.from_json(data) == record
    assert Result.from_json(data).to_json() == data
    assert data["schema_version"] == SCHEMA_VERSION


def test_optional_fields_are_left_out_until_they_exist():
    missing = training_result("erin", "missing")
    assert "isolation" not in missing and "restarts" not in missing
    assert missing["submitted_at"] is None                  # unknown, and said so
    full = training_result("alice")
    assert full["isolation"]["mode"] == "userns" and full["restarts"] == 0
    assert "volatile" not in full["items"][1]["fields"][0]
    volatile = Field("seed", expected=1, got=2, ok=None, volatile=True).to_json()
    assert volatile == {"key": "seed", "expected": 1, "got": 2, "ok": None, "volatile": True}


def test_a_self_check_has_no_submission_fields_and_unscored_items():
    check = Result(student=None, module="09_training", notebook="training_dev.ipynb",
                   status="checked", score=25.0, max_score=40.0, items=[
                       ItemResult("training-batch-size", "assessment", 5.0, None, "answered",
                                  "answered with the expected shape")])
    data = check.to_json()
    assert not {"source_digest", "submitted_at", "days_late", "submission_digest"} & set(data)
    assert data["student"] is None and data["items"][0]["score"] is None
    assert Result.from_json(data) == check


def test_a_record_written_before_schema_version_reads_as_version_1():
    data = training_result("alice")
    del data["schema_version"]
    assert Result.from_json(data).schema_version == 1


@pytest.mark.parametrize("change, complaint", [
    (lambda d: d.update(status="graded!"), "status is 'graded!'"),
    (lambda d: d["items"][0].update(status="ok"), "item 'test-training-comprehensive' status"),
    (lambda d: d["items"][0].update(score="25"), "not a number"),
    (lambda d: d["notices"].append({"kind": "gossip", "cell": None, "message": ""}),
     "notice kind is 'gossip'"),
    (lambda d: d["isolation"].update(mode="bubblewrap (unprivileged)"), "isolation mode"),
    (lambda d: d.update(message="hello"), "unknown result field(s): message"),
    (lambda d: d.update(schema_version=SCHEMA_VERSION + 1), "reads up to"),
    (lambda d: d["items"][1]["fields"][0].update(volatile=False), "written only as true"),
    (lambda d: d["items"][0].update(grade="A"), "unknown item field(s): grade"),
    (lambda d: d["isolation"].update(uid=0), "unknown isolation field(s): uid"),
])
def test_records_of_another_shape_are_refused(change, complaint):
    data = copy.deepcopy(training_result("alice"))
    change(data)
    with pytest.raises(ResultFormatError, match=complaint.replace("(", r"\(").replace(")", r"\)")):
        Result.from_json(data)


def test_failed_to_run_reads_the_typed_result_and_its_json_alike():
    for variant, failed in [("full", False), ("partial", False), ("late", False),
                            ("crashed", True), ("error", True), ("missing", True)]:
        record = training_record("bob", variant)
        assert record.failed_to_run is failed
        assert Result.from_json(record.to_json()).failed_to_run is failed


def test_notices_are_the_harness_notices():
    from grader.harness.merge import Notice as MergeNotice
    assert MergeNotice is Notice
    assert Notice("late", None, "x").to_json() == {"kind": "late", "cell": None, "message": "x"}


def test_an_item_graded_by_hand_keeps_the_autograders_verdict():
    from grader.gradebook.manual import Grade, apply_manual
    record = training_record("bob", "partial")
    grade = Grade(student="bob", module="09_training", notebook="training_dev.ipynb",
                  item="training-batch-size", score=4.0, comment="close enough",
                  reason="rounding", graded_at="2026-11-20T10:00:00+00:00")
    graded = apply_manual(record, {("bob", "training_dev.ipynb", "training-batch-size"): grade})
    item = next(i for i in graded.items if i.id == "training-batch-size")
    assert (item.score, item.auto.score, item.auto.status) == (4.0, 1.67, "partial")
    assert item.manual.comment == "close enough" and not item.manual.stale
    assert Result.from_json(graded.to_json()) == graded
    # applied again: the same result (it starts again from the autograder's verdict)
    again = apply_manual(graded, {("bob", "training_dev.ipynb", "training-batch-size"): grade})
    assert again == graded and apply_manual(graded, {}).items == record.items


def test_an_assignment_record_round_trips():
    """What harness/assignment.py writes: items and unit tests name their notebook, and a
    `notebooks` list sums each one up."""
    from dataclasses import replace

    from grader.result import NotebookSummary
    record = training_record("alice")
    record.items = [replace(i, notebook="training_dev.ipynb") for i in record.items]
    record.notebooks = [NotebookSummary("training_dev.ipynb", "graded", 40.0, 40.0, 0,
                                        submission_digest="313d5de3")]
    data = json.loads(json.dumps(record.to_json()))
    assert data["notebooks"][0]["submission_digest"] == "313d5de3"
    assert Result.from_json(data) == record and Result.from_json(data).to_json() == data
