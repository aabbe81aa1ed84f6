"""Assignments of several notebooks (nbgrader's layout): results per notebook and a
total per assignment, in result.json, the gradebook, exports, status and feedback."""
from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from support.nbgrader_example import copy_example, write_course_toml
from grader.autograde.batch import Outputs, grade_module
from grader.course import load_course
from grader.gradebook.exports import render_csv
from grader.gradebook.status import status_rows
from grader.gradebook.store import open_gradebook
from grader.harness.assignment import locate_all
from grader.module import load_notebooks

NAMES = ["problem1.ipynb", "problem2.ipynb"]


def test_locate_all_by_name_renamed_and_ignored(tmp_path):
    for name in ("problem1.ipynb", "problem2 (1).ipynb"):
        (tmp_path / name).write_text("{}")
    found, notices = locate_all(tmp_path, NAMES)
    assert found == {"problem1.ipynb": tmp_path / "problem1.ipynb",
                     "problem2.ipynb": tmp_path / "problem2 (1).ipynb"}
    assert [n.kind for n in notices] == ["renamed"]
    assert "expected problem2.ipynb but found problem2 (1).ipynb" in notices[0].message

    (tmp_path / "scratch.ipynb").write_text("{}")      # two candidates: neither is guessed
    found, notices = locate_all(tmp_path, NAMES)
    assert found["problem2.ipynb"] is None
    assert sorted(n.kind for n in notices) == ["ignored", "ignored"]
    assert all("cannot tell which of problem2.ipynb" in n.message for n in notices)

    (tmp_path / "problem2.ipynb").write_text("{}")     # all there: the extras are ignored
    found, notices = locate_all(tmp_path, NAMES)
    assert found["problem2.ipynb"] == tmp_path / "problem2.ipynb"
    assert {n.message.split(" ")[0] for n in notices} == {"problem2", "scratch.ipynb"}
    assert all("every expected notebook is there" in n.message for n in notices)


def test_assignment_sources_are_every_notebook(tmp_path):
    root = copy_example(tmp_path)
    (root / "source/ps1/helpers.py").write_text("def helper():\n    return 1\n")  # not a notebook
    write_course_toml(root)
    notebooks = load_notebooks(root, "ps1")
    assert [m.notebook_name for m in notebooks] == NAMES
    assert [m.max_score for m in notebooks] == [10.0, 3.0]
    assert [m.cache_key for m in notebooks] == ["ps1/problem1", "ps1/problem2"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = copy_example(tmp_path_factory.mktemp("ps1"))
    write_course_toml(root)
    # carol renamed one notebook; dave handed in only problem1
    carol = root / "submitted/carol/ps1"
    shutil.copytree(root / "submitted/hacker/ps1", carol)
    (carol / "problem2.ipynb").rename(carol / "Problem 2 (copy).ipynb")
    dave = root / "submitted/dave/ps1"
    dave.mkdir(parents=True)
    shutil.copy(root / "submitted/hacker/ps1/problem1.ipynb", dave)
    course = load_course(root)
    with open_gradebook(course.db_url) as gradebook:
        summary = grade_module(course, "ps1", workers=1, outputs=Outputs(course, gradebook))
    results = {p.parent.parent.name: json.loads(p.read_text())
               for p in (root / "autograded").glob("*/ps1/result.json")}
    return course, summary, results


def test_results_per_notebook_and_a_total(graded):
    course, summary, results = graded
    assert summary.graded == 4 and summary.max_score == 13.0
    hacker = results["hacker"]
    assert hacker["max_score"] == 13.0 and hacker["score"] == 3.0
    assert [(n["notebook"], n["status"], n["score"], n["max_score"], n["needs_manual_grading"])
            for n in hacker["notebooks"]] == [("problem1.ipynb", "graded", 3.0, 10.0, 3),
                                              ("problem2.ipynb", "graded", 0.0, 3.0, 2)]
    assert {i["notebook"] for i in hacker["items"]} == set(NAMES)
    for student in ("hacker", "bitdiddle"):
        for name in NAMES:     # the executed notebook of each
            assert (course.autograded_dir / student / "ps1" / name).is_file()


def test_renamed_and_missing_notebooks(graded):
    _, _, results = graded
    carol = results["carol"]
    assert [n["status"] for n in carol["notebooks"]] == ["graded", "graded"]
    assert carol["score"] == results["hacker"]["score"]
    assert [n["kind"] for n in carol["notices"]] == ["renamed"]
    dave = results["dave"]
    assert dave["status"] == "graded"
    assert [n["status"] for n in dave["notebooks"]] == ["graded", "missing"]
    assert {i["status"] for i in dave["items"] if i["notebook"] == "problem2.ipynb"} == {"missing"}
    assert dave["score"] == 3.0 and dave["max_score"] == 13.0


def test_gradebook_exports_status_and_feedback_show_both(graded):
    course, _, _ = graded
    with open_gradebook(course.db_url) as gradebook:
        rows = {r["student"]: r for r in csv.DictReader(io.StringIO(render_csv(course, gradebook)))}
        status = status_rows(course, gradebook)[0]
        items = gradebook.item_results("ps1")
        from grader.reports import build_dashboard
        dashboard = build_dashboard(course, gradebook).read_text()
    assert rows["hacker"]["ps1"] == "3" and rows["hacker"]["ps1/problem1"] == "3"
    assert rows["hacker"]["ps1/problem2"] == "0" and rows["hacker"]["needs_manual_grading"] == "5"
    assert {i["item_id"] for i in items if i["student"] == "hacker"} >= {
        "problem1/correct_squares", "problem2/part-a"}
    assert status.max_score == 13.0
    assert [(name, top) for name, _, top in status.notebooks] == [("problem1.ipynb", 10.0),
                                                                 ("problem2.ipynb", 3.0)]
    assert status.needs_manual == 5 + 5 + 4 + 3     # hacker, carol, bitdiddle, dave
    assert "17 answers need manual grading" in dashboard
    means = dashboard.replace("\n", "")
    assert "problem1.ipynb</span> mean 2.62 / 10" in means     # (3 + 3 + 1.5 + 3) / 4
    assert "problem2.ipynb</span> mean 0 / 3" in means
    page = (course.feedback_dir / "hacker" / "ps1").glob("*.html")
    html = next(page).read_text()
    assert 'data-notebook="problem1.ipynb"' in html and 'data-notebook="problem2.ipynb"' in html
    assert "3 / 10" in html and "0 / 3" in html


def test_release_and_validate_every_notebook(tmp_path):
    from grader.release import release
    from grader.validate import validate
    root = copy_example(tmp_path)
    write_course_toml(root)
    course = load_course(root)
    written = release(course, ["ps1"])
    assert [r.path.relative_to(root).as_posix() for r in written] == [
        "release/ps1/problem1.ipynb", "release/ps1/problem2.ipynb"]
    outcomes = validate(course, ["ps1"])
    assert [(o.check, o.ok) for o in outcomes] == [
        ("lint", True), ("export", True), ("reference", True), ("stub", True),
        ("determinism", True), ("freshness", True)]
    (root / "release/ps1/problem2.ipynb").write_text("{}")     # one stale release
    stale = {o.check: o for o in validate(course, ["ps1"])}["freshness"]
    assert [p.path.as_posix() for p in stale.problems] == ["release/ps1/problem2.ipynb"]


def test_one_notebook_module_says_which_notebooks_it_ignored(tmp_path):
    root = copy_example(tmp_path, notebooks=("problem1",))
    write_course_toml(root)
    folder = root / "submitted" / "hacker" / "ps1"
    shutil.copy(folder / "problem1.ipynb", folder / "problem1-old.ipynb")
    course = load_course(root)
    grade_module(course, "ps1", workers=1, outputs=Outputs(course, None, feedback=False))
    hacker = json.loads((root / "autograded/hacker/ps1/result.json").read_text())
    assert hacker["score"] == 3.0
    assert [(n["kind"], n["message"].split(" ")[0]) for n in hacker["notices"]] == [
        ("ignored", "problem1-old.ipynb")]
    bitdiddle = json.loads((root / "autograded/bitdiddle/ps1/result.json").read_text())
    assert "ignored" not in {n["kind"] for n in bitdiddle["notices"]}


def test_several_notebooks_on_a_cluster_as_locally(tmp_path):
    distributed = pytest.importorskip("distributed")
    from grader.autograde.cluster import grade_module_on_cluster
    root = copy_example(tmp_path)
    write_course_toml(root)
    course = load_course(root)
    grade_module(course, "ps1", workers=1, outputs=Outputs(course, None, feedback=False))

    def records() -> dict[str, dict]:
        found = {}
        for path in (root / "autograded").glob("*/ps1/result.json"):
            record = json.loads(path.read_text())
            found[record["student"]] = {k: v for k, v in record.items() if k != "duration_s"}
        return found
    local = records()
    shutil.rmtree(root / "autograded")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        summary = grade_module_on_cluster(course, "ps1", scheduler=cluster.scheduler_address,
                                          force=True,
                                          outputs=Outputs(course, None, feedback=False))
    assert summary.graded == 2
    assert records() == local
    for name in NAMES:
        assert (root / "autograded" / "hacker" / "ps1" / name).is_file()
