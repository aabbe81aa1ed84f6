"""nbgrader's cell semantics by default (DESIGN.md, "Graded items and how they score"):
test cells with top-level checks, manual answers, task cells, and computational
assessments only where course.toml declares them."""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from grader.autograde.batch import Outputs, grade_module
from grader.course import load_course, load_roster
from grader.errors import ConfigError
from grader.module import build_module, load_module
from grader.sources import read_source
from support.nbgrader_example import copy_example, write_course_toml

PROBLEM1 = {"correct_squares": ("test", 1.0), "squares_invalid_input": ("test", 1.0),
            "correct_sum_of_squares": ("test", 0.5), "sum_of_squares_uses_squares": ("test", 0.5),
            "sum_of_squares_equation": ("manual", 1.0),
            "sum_of_squares_application": ("manual", 2.0),
            "cell-938593c4a215c6cc": ("manual", 4.0)}


def test_nbgrader_cells_classify_as_nbgrader_means_them(tmp_path):
    root = copy_example(tmp_path)
    module = build_module(read_source(root / "source/ps1/problem1.ipynb"), "ps1")
    assert {i.id: (i.kind, i.points) for i in module.items} == PROBLEM1
    assert module.max_score == 10.0
    assert [i.id for i in module.items if i.task] == ["cell-938593c4a215c6cc"]
    assert module.item("correct_squares").functions == []     # top-level asserts: no test*
    problem2 = build_module(read_source(root / "source/ps1/problem2.ipynb"), "ps1")
    assert problem2.max_score == 3.0
    assert {i.kind for i in problem2.items} == {"manual"}


@pytest.mark.parametrize("declaration", [
    'assessments = "all"\n',
    'assessments = ["sum_of_squares_application"]\n',
    '\n[items."ps1"."sum_of_squares_application"]\nassessment = true\n',
])
def test_course_toml_declares_computational_assessments(tmp_path, declaration):
    root = copy_example(tmp_path, notebooks=("problem1",))
    write_course_toml(root, declaration)
    module = load_module(root, "ps1")
    kinds = {i.id: i.kind for i in module.items}
    assert kinds["sum_of_squares_application"] == "assessment"
    assert module.item("sum_of_squares_application").functions == ["pyramidal_number"]
    # markdown answers and tasks stay manual whatever the module declares
    assert kinds["sum_of_squares_equation"] == kinds["cell-938593c4a215c6cc"] == "manual"


def test_an_item_declaration_wins_over_the_module_list(tmp_path):
    root = copy_example(tmp_path, notebooks=("problem1",))
    write_course_toml(root, 'assessments = "all"\n\n[items."ps1"."sum_of_squares_application"]\n'
                            'assessment = false\n')
    assert load_module(root, "ps1").item("sum_of_squares_application").kind == "manual"


def test_demo_course_declares_its_assessment_cells():
    root = Path(__file__).resolve().parents[2]
    assessments = {(m, i.id) for m in ("01_tensor", "07_optimizers", "09_training")
                   for i in load_module(root, m).items if i.kind == "assessment"}
    assert assessments == {("01_tensor", "tensor-memory"), ("07_optimizers", "optimizer-steps"),
                           ("09_training", "training-batch-size"),
                           ("09_training", "training-convergence"),
                           ("09_training", "training-throughput")}


@pytest.mark.parametrize("declaration,needle", [
    ('assessments = "some"\n', 'assessments must be "all" or a list'),
    ('assessments = [1]\n', 'assessments must be "all" or a list'),
    ('\n[items."ps1"."x"]\nassessment = "yes"\n', "assessment must be true or false"),
])
def test_bad_assessment_declarations_name_the_key(tmp_path, declaration, needle):
    write_course_toml(tmp_path, declaration)
    with pytest.raises(ConfigError, match=needle):
        load_course(tmp_path)


def test_roster_accepts_nbgrader_columns(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("id,first_name,last_name,email\nbitdiddle,Ben,Bitdiddle,ben@example.edu\n"
                    "hacker,,Hacker,\n", encoding="utf-8")
    assert [(s.id, s.name, s.email) for s in load_roster(path)] == [
        ("bitdiddle", "Ben Bitdiddle", "ben@example.edu"), ("hacker", "Hacker", "")]
    path.write_text("id,name,email\nalice,Alice A,a@x\n", encoding="utf-8")
    assert [(s.id, s.name) for s in load_roster(path)] == [("alice", "Alice A")]


def test_one_notebook_grades_as_nbgrader_grades_it(tmp_path):
    """problem1 alone: nbgrader autograde's verdicts (tests/nbgrader/test_against_nbgrader.py
    runs nbgrader itself on the whole assignment)."""
    root = copy_example(tmp_path, notebooks=("problem1",))
    write_course_toml(root)
    course = load_course(root)
    grade_module(course, "ps1", workers=1, outputs=Outputs(course, None, feedback=False))
    results = {s: json.loads((root / "autograded" / s / "ps1" / "result.json").read_text())
               for s in ("bitdiddle", "hacker")}
    verdicts = {s: {i["id"]: (i["status"], i["score"]) for i in r["items"]}
                for s, r in results.items()}
    assert verdicts["hacker"] == {
        "correct_squares": ("passed", 1.0), "squares_invalid_input": ("passed", 1.0),
        "correct_sum_of_squares": ("passed", 0.5), "sum_of_squares_uses_squares": ("passed", 0.5),
        "sum_of_squares_equation": ("manual", 0.0), "sum_of_squares_application": ("manual", 0.0),
        "cell-938593c4a215c6cc": ("manual", 0.0)}
    assert verdicts["bitdiddle"] == {
        "correct_squares": ("failed", 0.0), "squares_invalid_input": ("passed", 1.0),
        "correct_sum_of_squares": ("failed", 0.0), "sum_of_squares_uses_squares": ("passed", 0.5),
        "sum_of_squares_equation": ("manual", 0.0),
        # left as released: 0 without a human, as nbgrader does
        "sum_of_squares_application": ("failed", 0.0),
        "cell-938593c4a215c6cc": ("manual", 0.0)}
    assert [r["max_score"] for r in results.values()] == [10.0, 10.0]
    assert results["hacker"]["score"] == 3.0 and results["bitdiddle"]["score"] == 1.5
    assert "unchanged from the release" in next(
        i["message"] for i in results["bitdiddle"]["items"] if i["id"] == "sum_of_squares_application")


def test_an_answer_left_as_nbgrader_handed_it_out_scores_zero(tmp_path):
    """A course's own stub (nbgrader_config.py's code_stub) is in nbgrader's release on
    disk, not in the release grader builds: that release says what 'unchanged' means."""
    from grader.release import build_release
    root = copy_example(tmp_path, notebooks=("problem1",))
    write_course_toml(root)
    course = load_course(root)
    module = load_module(root, "ps1")
    released = build_release(course, module)
    del released.metadata["grader"]              # as nbgrader writes it
    stub = "# ANSWER BELOW (course stub)\n"
    for cell in released.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "sum_of_squares_application":
            cell.source = stub
    (root / "release" / "ps1").mkdir(parents=True)
    nbformat.write(released, root / "release" / "ps1" / "problem1.ipynb")
    for student, text in (("bitdiddle", stub), ("hacker", stub + "def pyramidal_number(n):\n"
                                                      "    return sum_of_squares(n)\n")):
        path = root / "submitted" / student / "ps1" / "problem1.ipynb"
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "sum_of_squares_application":
                cell.source = text
        nbformat.write(nb, path)
    grade_module(course, "ps1", workers=1, outputs=Outputs(course, None, feedback=False))
    status = {s: next(i["status"] for i in json.loads(
        (root / "autograded" / s / "ps1" / "result.json").read_text())["items"]
        if i["id"] == "sum_of_squares_application") for s in ("bitdiddle", "hacker")}
    assert status == {"bitdiddle": "failed", "hacker": "manual"}
