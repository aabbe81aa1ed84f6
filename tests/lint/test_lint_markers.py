"""L012 and the marker matcher: near misses of nbgrader's markers, in .py and .ipynb sources."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from grader.lint import lint_file
from grader.markers import find_marker

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ('# %% nbgrader={"grade": false, "grade_id": "sol", "locked": false, '
            '"schema_version": 3, "solution": true, "task": false}\n')


@pytest.mark.parametrize("line,canonical", [
    ("### BEGIN SOLUTON", "### BEGIN SOLUTION"),
    ("### begin solution", "### BEGIN SOLUTION"),
    ("###  BEGIN  SOLUTION", "### BEGIN SOLUTION"),
    ("##BEGIN SOLUTION", "### BEGIN SOLUTION"),
    ("#### BEGIN SOLUTION", "### BEGIN SOLUTION"),
    ("### BEGIN_SOLUTION", "### BEGIN SOLUTION"),
    ("### START SOLUTION", "### BEGIN SOLUTION"),
    ("    # END SOLUTIN", "### END SOLUTION"),
    ("### BEGIN HIDDEN TEST", "### BEGIN HIDDEN TESTS"),
    ("### BEGIN HIDDEN-TESTS", "### BEGIN HIDDEN TESTS"),
    ("### END HIDEN TESTS", "### END HIDDEN TESTS"),
    ("### end hidden tests", "### END HIDDEN TESTS"),
])
def test_near_misses_are_recognised(line, canonical):
    marker = find_marker(line)
    assert marker is not None and marker.canonical == canonical and not marker.exact


@pytest.mark.parametrize("line", [
    "### BEGIN SOLUTION", "    ### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS",
    "### BEGIN SOLUTION (the part students write)",
])
def test_exact_markers_are_exact(line):
    marker = find_marker(line)
    assert marker is not None and marker.exact


@pytest.mark.parametrize("line", [
    "# END SECTION", "# Solution", "# end", "### BEGIN TESTS", "#| export",
    "end_solution = 3", "x = begin_solution()", "# YOUR CODE HERE",
])
def test_ordinary_lines_are_not_markers(line):
    assert find_marker(line) is None
    assert find_marker(line, markdown=True) is None


def test_markdown_lines_need_no_comment_mark():
    assert find_marker("BEGIN SOLUTION") is None  # code: not a comment, not a marker
    assert find_marker("begin solution", markdown=True).canonical == "### BEGIN SOLUTION"
    assert find_marker("Begin solution of the exercise", markdown=True) is None
    # jupytext's commented markdown: `# ### BEGIN SOLUTION` is the exact marker there
    assert find_marker("# ### BEGIN SOLUTION", markdown=True, commented=True).exact
    assert not find_marker("# ### BEGIN SOLUTION", markdown=True).exact


def test_demo_sources_have_no_near_misses():
    sources = sorted(ROOT.glob("source/*/*.py"))
    assert len(sources) == 9
    assert [p for path in sources for p in lint_file(path) if p.code == "L012"] == []


def test_L012_one_problem_per_misspelled_marker(tmp_path):
    path = tmp_path / "mini.py"
    path.write_text(
        SOLUTION + "def f():\n    ### BEGIN SOLUTON\n    return 1\n    ### END SOLUTION\n\n"
        + SOLUTION.replace('"sol"', '"sol2"')
        + "def g():\n    ### BEGIN SOLUTION\n    return 2\n    ### end solution\n",
        encoding="utf-8")
    problems = lint_file(path)
    assert [(p.line, p.code) for p in problems] == [(3, "L012"), (11, "L012")]
    assert problems[0].format() == (
        f"{path}:3: error: L012 `### BEGIN SOLUTON` looks like `### BEGIN SOLUTION` but is not "
        "exactly it: a misspelled marker can leave the solution in the student's notebook "
        "(fix: write exactly `### BEGIN SOLUTION`)")


def test_L012_in_an_ipynb_markdown_cell(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell(
            "Answer:\n\n### BEGIN SOLUTION\nshown\n### END SOLUTION\n##  begin solution\nsecret",
            metadata={"nbgrader": {"grade": True, "grade_id": "answer", "locked": False,
                                   "points": 1, "schema_version": 3, "solution": True,
                                   "task": False}}),
    ])
    path = tmp_path / "answers.ipynb"
    nbformat.write(nb, path)
    problems = [p for p in lint_file(path) if p.code == "L012"]
    assert len(problems) == 1
    assert problems[0].message.startswith("cell 1, line 6: `##  begin solution` looks like")
