"""Links in a submission of several notebooks (nbgrader's layout) are not followed on the
host either: a notebook that links to another student's grades invalid, and a link to a
file only the grader can read reaches nothing from the sandbox."""
from __future__ import annotations

import json
import os

import nbformat

from grader.course import load_course
from grader.harness.assignment import grade_assignment, open_assignment
from support.nbgrader_example import copy_example, write_course_toml


def test_links_in_an_assignment_of_several_notebooks_are_not_followed(tmp_path):
    root = copy_example(tmp_path / "course")
    write_course_toml(root)
    secret = tmp_path / "grader-only.txt"
    secret.write_text("TOP-SECRET-grader-only")
    os.chmod(secret, 0o600)
    hacker = root / "submitted" / "hacker" / "ps1"
    (hacker / "problem1.ipynb").unlink()
    (hacker / "problem1.ipynb").symlink_to(root / "submitted" / "bitdiddle" / "ps1" /
                                           "problem1.ipynb")
    (hacker / "secret.txt").symlink_to(secret)
    nb = nbformat.read(hacker / "problem2.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "try:\n    print(open('secret.txt').read())\nexcept OSError as exc:\n"
        "    print('unreadable', type(exc).__name__)\n"))
    nbformat.write(nb, hacker / "problem2.ipynb")
    course = load_course(root)
    with open_assignment(course, "ps1", timeout_s=10) as actx:
        graded = grade_assignment(actx, "hacker", hacker)
    parts = {n.notebook: n for n in graded.result.notebooks}
    assert parts["problem1.ipynb"].status == "invalid"
    assert parts["problem1.ipynb"].score == 0
    text = nbformat.writes(graded.executed_all["problem2.ipynb"])
    assert "TOP-SECRET" not in text and "unreadable" in text
    assert "TOP-SECRET" not in json.dumps(graded.result.to_json())
