"""The right score for every kind of Training submission (issue: the grading harness).

Every submission is built from the module's release by editing cells (grader.synth),
then graded by the real harness in real sandboxed kernels.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grader.harness.grade import grade_submission
from grader.synth import append_code, delete, edit, replace

TEST = "test-training-comprehensive"
ASSESSMENTS = ["training-batch-size", "training-convergence", "training-throughput"]


def grade(ctx, nb, folder: Path, name: str = "training_dev.ipynb") -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    return grade_submission(ctx, "student", folder).result.to_json()


def items(result: dict) -> dict[str, dict]:
    return {i["id"]: i for i in result["items"]}


def test_untouched_release_scores_zero(training, release, tmp_path):
    result = grade(training, release, tmp_path)
    assert result["status"] == "graded"
    assert result["max_score"] == 40
    assert result["score"] == 0
    by_id = items(result)
    assert by_id[TEST]["status"] == "error"
    assert "NotImplementedError" in by_id[TEST]["message"]
    assert all(by_id[a]["score"] == 0 for a in ASSESSMENTS)


def test_reference_solution_scores_full_marks_with_no_manual_work(training, complete, tmp_path):
    result = grade(training, complete, tmp_path)
    assert result["score"] == 40
    assert all(i["status"] == "passed" for i in result["items"])
    assert not [i for i in result["items"] if i["status"] == "manual"]
    assert all(u["status"] == "passed" for u in result["unit_tests"]), result["unit_tests"]
    assert result["notices"] == []


def test_loss_crashing_on_class_indices_loses_only_the_test(training, complete, tmp_path):
    nb = edit(complete, "crossentropy-loss", replace(
        "        if len(true_data.shape) == 1:",
        "        true_data = true_data.argmax(axis=1)  # assumes one-hot labels\n"
        "        if len(true_data.shape) == 1:"))
    result = grade(training, nb, tmp_path)
    by_id = items(result)
    assert by_id[TEST]["score"] == 0
    assert by_id[TEST]["status"] == "error"
    message = by_id[TEST]["message"]
    assert "AxisError" in message and "crossentropy-loss" in message and "argmax" in message
    assert sum(by_id[a]["score"] for a in ASSESSMENTS) == 15
    assert result["score"] == 15


def test_wrong_constant_gives_partial_credit_for_that_item_only(training, complete, tmp_path):
    nb = edit(complete, "training-batch-size", replace(
        "activation_per_sample = 10 * 1000 * 4", "activation_per_sample = 10 * 1000 * 8"))
    result = grade(training, nb, tmp_path)
    by_id = items(result)
    batch = by_id["training-batch-size"]
    assert batch["status"] == "partial"
    assert batch["score"] == pytest.approx(5 * 2 / 3, abs=1e-3)
    fields = {f["key"]: f for f in batch["fields"]}
    assert fields["optimal_batch_size"]["ok"] is False
    assert fields["model_memory_mb"]["ok"] is True
    assert "optimal_batch_size" in batch["message"]
    assert by_id[TEST]["score"] == 25
    assert by_id["training-convergence"]["score"] == 5
    assert by_id["training-throughput"]["score"] == 5


def test_numpy_scalars_and_rounded_floats_are_accepted(training, complete, tmp_path):
    nb = edit(complete, "training-batch-size", replace(
        "        'model_memory_mb': model_memory / (1024**2),",
        "        'model_memory_mb': np.float32(round(model_memory / (1024**2), 3)),"))
    nb = edit(nb, "training-batch-size", replace(
        "        'optimal_batch_size': optimal_batch_size",
        "        'optimal_batch_size': np.int64(optimal_batch_size)"))
    nb = edit(nb, "training-throughput", replace(
        "        'deadline_met': cumulative_speedup >= speedup_needed",
        "        'deadline_met': np.bool_(cumulative_speedup >= speedup_needed)"))
    result = grade(training, nb, tmp_path)
    by_id = items(result)
    assert by_id["training-batch-size"]["score"] == 5, by_id["training-batch-size"]
    assert by_id["training-throughput"]["score"] == 5, by_id["training-throughput"]


def test_returning_none_scores_zero_for_that_item(training, complete, tmp_path):
    nb = edit(complete, "training-convergence", replace(
        "    return {\n        'recommended_loss'", "    return None\n    return {\n        'recommended_loss'"))
    result = grade(training, nb, tmp_path)
    by_id = items(result)
    assert by_id["training-convergence"]["score"] == 0
    assert by_id["training-convergence"]["status"] == "failed"
    assert "None" in by_id["training-convergence"]["message"]
    assert result["score"] == 35


def test_edited_locked_test_cell_is_graded_as_released(training, release, tmp_path):
    nb = edit(release, TEST, lambda s: "def test_module_training():\n    pass\n")
    result = grade(training, nb, tmp_path)
    assert items(result)[TEST]["score"] == 0
    assert any(n["kind"] == "tampered" and n["cell"] == TEST for n in result["notices"])


def test_deleted_locked_test_cell_is_restored_and_graded(training, complete, release, tmp_path):
    result = grade(training, delete(complete, TEST), tmp_path / "complete")
    assert items(result)[TEST]["score"] == 25
    assert any(n["kind"] == "restored" and n["cell"] == TEST for n in result["notices"])
    result = grade(training, delete(release, TEST), tmp_path / "release")
    assert items(result)[TEST]["score"] == 0


def test_redefining_the_test_later_changes_nothing(training, release, tmp_path):
    nb = append_code(release, "def test_module_training():\n    return None\n")
    result = grade(training, nb, tmp_path)
    assert items(result)[TEST]["score"] == 0
    assert result["score"] == 0


def test_deleted_answer_cell_scores_zero(training, complete, tmp_path):
    result = grade(training, delete(complete, "training-throughput"), tmp_path)
    throughput = items(result)["training-throughput"]
    assert throughput["score"] == 0 and throughput["status"] == "missing"
    assert result["score"] == 35


def test_output_on_stderr_costs_nothing(training, complete, tmp_path):
    nb = append_code(complete, "import sys, warnings\nprint('noise', file=sys.stderr)\n"
                               "warnings.warn('deprecated thing')\n", after="mse-loss")
    assert grade(training, nb, tmp_path)["score"] == 40


def test_submission_metadata_cannot_change_points_or_ids(training, release, tmp_path):
    nb = edit(release, TEST, lambda s: s + "\n")
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader")
        if meta and meta.get("grade"):
            meta["points"] = 1000
            meta["locked"] = False
    result = grade(training, nb, tmp_path)
    assert result["max_score"] == 40
    assert result["score"] == 0


@pytest.mark.parametrize("raw,detail", [
    (b"", "empty"), (b"{not json", "not a Jupyter notebook"), (b"\xff\xfe\x00", "UTF-8"),
])
def test_unreadable_notebook_is_invalid(training, tmp_path, raw, detail):
    (tmp_path / "training_dev.ipynb").write_bytes(raw)
    result = grade_submission(training, "student", tmp_path).result.to_json()
    assert result["status"] == "invalid" and result["score"] == 0
    assert detail in result["items"][0]["message"]


def test_missing_and_renamed_notebooks(training, complete, tmp_path):
    (tmp_path / "empty").mkdir()
    missing = grade_submission(training, "student", tmp_path / "empty").result.to_json()
    assert missing["status"] == "missing" and missing["score"] == 0
    renamed = grade(training, complete, tmp_path / "renamed", name="my copy.ipynb")
    assert renamed["score"] == 40
    assert [n["kind"] for n in renamed["notices"]] == ["renamed"]
