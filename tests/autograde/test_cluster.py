"""Grading on a Dask cluster gives the same results as the local batch.

A copy of the demo course (module 09_training, three submissions built from the
release with grader.synth) is graded locally, then on a LocalCluster with two worker
processes; the result records must be equal apart from timings.
"""
from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from grader.autograde.batch import Outputs, grade_module
from grader.course import load_course
from grader.gradebook.store import open_gradebook
from grader.synth import edit, release_of, replace, solved, write_submission

distributed = pytest.importorskip("distributed")

REPO = Path(__file__).resolve().parents[2]
MODULE = "09_training"
TIMINGS = {"duration_s"}


@pytest.fixture(scope="module")
def course_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cluster-course")
    for name in ("course", "source", "release"):
        shutil.copytree(REPO / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    course = load_course(root)
    module, release = release_of(course, MODULE)
    due = course.module(MODULE).due
    complete = solved(module, release)
    wrong = edit(complete, "training-batch-size",
                 replace("activation_per_sample = 10 * 1000 * 4",
                         "activation_per_sample = 10 * 1000 * 8"))
    name = module.notebook_name
    write_submission(root, "alice", MODULE, complete, name=name,
                     submitted_at=due - timedelta(hours=1))
    write_submission(root, "bob", MODULE, wrong, name=name, submitted_at=due - timedelta(hours=1))
    write_submission(root, "dave", MODULE, complete, name=name,
                     submitted_at=due + timedelta(days=2, hours=12))
    return root


def _results(root: Path) -> dict[str, dict]:
    found = {}
    for path in sorted((root / "autograded").glob(f"*/{MODULE}/result.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        for item in record["items"]:
            # field order follows the reference's key order, which differs between a freshly
            # computed reference and the cached (sorted) one; the order carries no meaning
            item["fields"] = sorted(item["fields"], key=lambda f: f["key"])
        found[record["student"]] = {k: v for k, v in record.items() if k not in TIMINGS}
    return found


def test_cluster_results_equal_local_run(course_root: Path) -> None:
    course = load_course(course_root)
    local = grade_module(course, MODULE, workers=2, force=True,
                         outputs=Outputs(course, None, feedback=False))
    assert local.graded == 3
    expected = _results(course_root)
    assert set(expected) == {"alice", "bob", "dave"}
    assert expected["alice"]["score"] == expected["alice"]["max_score"]
    assert expected["dave"]["late_penalty"] > 0
    shutil.rmtree(course_root / "autograded")

    from grader.autograde.cluster import grade_module_on_cluster
    gradebook = open_gradebook(course_root / "grader.db")
    progress: list[tuple[int, int]] = []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        summary = grade_module_on_cluster(
            course, MODULE, scheduler=cluster.scheduler_address, force=True,
            outputs=Outputs(course, gradebook, feedback=False),
            on_progress=lambda m, done, total: progress.append((done, total)))
        assert summary.graded == 3 and summary.skipped == 0
        assert progress[-1] == (3, 3)
        got = _results(course_root)
        assert set(got) == set(expected)
        for student, record in expected.items():
            differing = {k: (v, got[student].get(k)) for k, v in record.items()
                         if got[student].get(k) != v}
            assert not differing and got[student].keys() == record.keys(), (student, differing)
        # the coordinator wrote the gradebook
        assert {r.student for r in gradebook.results(MODULE)} == {"alice", "bob", "dave"}
        # unchanged submissions are skipped, as in the local batch
        again = grade_module_on_cluster(course, MODULE, scheduler=cluster.scheduler_address,
                                        outputs=Outputs(course, gradebook, feedback=False))
        assert again.skipped == 3 and again.graded == 0
