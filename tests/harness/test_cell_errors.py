"""Errors in ungraded cells are reported (issue "Nothing a newcomer can trip over",
point 2): in result.json's notices with the cell and line, and on the feedback page."""
from __future__ import annotations

import nbformat

from grader.harness.grade import grade_submission
from grader.reports import render_feedback
from grader.synth import append_code, edit, replace


def test_an_ungraded_cells_error_is_a_notice_with_its_cell_and_line(training, complete, tmp_path):
    nb = append_code(complete, "x = 1\ny = x / 0\n", after="training-imports")
    nb = edit(nb, "training-imports", replace("import pickle\n",
                                               "import pickle\nimport not_a_module_here\n"))
    nbformat.write(nb, tmp_path / "training_dev.ipynb")
    result = grade_submission(training, "student", tmp_path).result.to_json()
    errors = [n for n in result["notices"] if n["kind"] == "cell_error"]
    by_cell = {n["cell"]: n["message"] for n in errors}
    assert "ModuleNotFoundError" in by_cell["training-imports"], errors
    assert "not_a_module_here" in by_cell["training-imports"]
    stray = next(m for cell, m in by_cell.items() if cell != "training-imports")
    assert "ZeroDivisionError" in stray and "line 2" in stray, stray
    # graded cells report their errors in their items, not twice
    assert not any(n["cell"] in {i["id"] for i in result["items"]} for n in errors)
    html = render_feedback(training.course, result)
    assert 'data-notice="cell_error"' in html and "ZeroDivisionError" in html
