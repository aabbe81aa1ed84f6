"""One test per lint rule: the exact FILE:LINE and code of each problem."""
from __future__ import annotations

from pathlib import Path

import pytest
from lint_helpers import line_of

import nbformat

from grader.lint import lint_file
from grader.lint.scan import cell_type_lines

SEED_TEST_HEADER = ('# %% nbgrader={"grade": true, "grade_id": "test-training-comprehensive", '
                    '"locked": true, "points": 25, "schema_version": 3, "solution": false, "task": false}')
MSE_TEST_HEADER = ('# %% nbgrader={"grade": false, "grade_id": "test-mse-loss", "locked": false, '
                   '"schema_version": 3, "solution": false, "task": false}')
IMPORTS_HEADER = ('# %% nbgrader={"grade": false, "grade_id": "training-imports", "locked": false, '
                  '"schema_version": 3, "solution": false, "task": false}')


def codes(path: Path) -> list[str]:
    """Problems as `FILE:LINE: severity: CODE` prefixes."""
    return [f"{p.path}:{p.line}: {p.severity}: {p.code}" for p in lint_file(path)]


def write(tmp_path: Path, text: str, name: str = "mini.py") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_seed_is_clean(seed_text, make_source):
    path = make_source()
    assert lint_file(path) == []


def test_seed_headers_sit_where_expected(make_source):
    path = make_source()
    assert line_of(path, '"grade_id": "test-training-comprehensive"') == 1726
    assert line_of(path, '"grade_id": "training-imports"') == 42


def test_L001_single_quotes(make_source):
    bad = IMPORTS_HEADER.replace('"', "'")
    path = make_source((IMPORTS_HEADER, bad))
    problems = lint_file(path)
    assert codes(path) == [f"{path}:42: error: L001"]
    assert "single quotes" in problems[0].message
    assert problems[0].format().startswith(f"{path}:42: error: L001 nbgrader metadata is not valid JSON")
    assert problems[0].fix == "run `grader lint --fix`"  # a Python dict: mechanically repairable


def test_L001_trailing_comma_and_python_literals(tmp_path):
    path = write(tmp_path, (
        '# %% nbgrader={"grade": false, "grade_id": "a", "locked": false, "schema_version": 3, '
        '"solution": false,}\nx = 1\n'
        '# %% nbgrader={"grade": False, "grade_id": "b", "locked": false, "schema_version": 3, '
        '"solution": false}\ny = 2\n'
    ))
    problems = lint_file(path)
    assert codes(path) == [f"{path}:1: error: L001", f"{path}:3: error: L001"]
    assert "trailing comma" in problems[0].message
    assert "Python literal False" in problems[1].message


def test_L002_missing_keys_and_old_schema(make_source):
    path = make_source(
        (IMPORTS_HEADER, IMPORTS_HEADER.replace('"locked": false, "schema_version": 3, ', '')),
        (MSE_TEST_HEADER, MSE_TEST_HEADER.replace('"schema_version": 3', '"schema_version": 1')),
    )
    problems = lint_file(path)
    assert codes(path) == [f"{path}:42: error: L002", f"{path}:350: error: L002"]
    assert "missing locked, schema_version" in problems[0].message
    assert "old nbgrader schema 1" in problems[1].message
    assert "grader lint --fix" in problems[0].fix


def test_L002_unknown_key_is_a_warning(make_source):
    path = make_source((MSE_TEST_HEADER, MSE_TEST_HEADER.replace('"task": false', '"task": false, "weight": 2')))
    assert codes(path) == [f"{path}:350: warning: L002"]
    assert "weight" in lint_file(path)[0].message


def test_L003_duplicate_grade_id_points_at_second(make_source):
    path = make_source(('"grade_id": "test-mse-loss"', '"grade_id": "mse-loss"'))
    problems = lint_file(path)
    assert codes(path) == [f"{path}:350: error: L003"]
    assert "line 238" in problems[0].message


def test_L004_points(make_source):
    path = make_source(
        (SEED_TEST_HEADER, SEED_TEST_HEADER.replace('"points": 25, ', '')),
        ('"grade_id": "training-convergence", "locked": false, "points": 5',
         '"grade_id": "training-convergence", "locked": false, "points": "5"'),
        (MSE_TEST_HEADER, MSE_TEST_HEADER.replace('"locked": false, ', '"locked": false, "points": 2, ')),
    )
    assert codes(path) == [f"{path}:350: warning: L004", f"{path}:1726: error: L004",
                           f"{path}:2445: error: L004"]


def test_L005_unclosed_solution(tmp_path, seed_text):
    # blank out the first END SOLUTION (line 322), which closes the region opened at line 290
    lines = seed_text.split("\n")
    assert lines[321] == "        ### END SOLUTION" and lines[289] == "        ### BEGIN SOLUTION"
    lines[321] = ""
    path = write(tmp_path, "\n".join(lines), name="training_dev.py")
    assert codes(path) == [f"{path}:290: error: L005"]
    assert "never closed" in lint_file(path)[0].message


def test_L005_end_without_begin_and_nested(tmp_path):
    path = write(tmp_path, (
        '# %% nbgrader={"grade": false, "grade_id": "sol", "locked": false, "schema_version": 3, '
        '"solution": true, "task": false}\n'
        "def f():\n"
        "    ### BEGIN SOLUTION\n"
        "    ### BEGIN SOLUTION\n"
        "    return 1\n"
        "    ### END SOLUTION\n"
        "    ### END SOLUTION\n"
    ))
    assert codes(path) == [f"{path}:4: error: L005", f"{path}:7: error: L005"]
    assert "nested" in lint_file(path)[0].message
    assert "without" in lint_file(path)[1].message


def test_L005_marker_in_markdown_and_unmarked_cells(make_source):
    path = make_source((
        '"""\n## 🔧 DEVELOPMENT\n"""',
        '"""\n## 🔧 DEVELOPMENT\n### BEGIN SOLUTION\nanswer\n### END SOLUTION\n"""',
    ))
    marker = line_of(path, "### BEGIN SOLUTION")
    assert marker == 146
    assert codes(path) == [f"{path}:146: error: L005"]
    assert "markdown cell with no nbgrader metadata" in lint_file(path)[0].message


def test_L005_marker_in_non_solution_cell(make_source):
    path = make_source(("def test_unit_mse_loss():\n", "def test_unit_mse_loss():\n    ### BEGIN SOLUTION\n    ### END SOLUTION\n"))
    line = line_of(path, "### BEGIN SOLUTION", nth=2)  # after the MSE solution's own marker
    assert codes(path) == [f"{path}:{line}: error: L005"]
    assert "not a solution cell" in lint_file(path)[0].message


def test_L006_hidden_tests_outside_and_unbalanced(make_source):
    path = make_source(
        ("def test_unit_mse_loss():\n", "def test_unit_mse_loss():\n    ### BEGIN HIDDEN TESTS\n    ### END HIDDEN TESTS\n"),
        ("    print(\"🎯 Training Pipeline: All comprehensive tests passed!\")\n",
         "    print(\"🎯 Training Pipeline: All comprehensive tests passed!\")\n    ### BEGIN HIDDEN TESTS\n    assert True\n"),
    )
    outside = line_of(path, "### BEGIN HIDDEN TESTS", 1)
    unclosed = line_of(path, "### BEGIN HIDDEN TESTS", 2)
    assert (outside, unclosed) == (352, 1798)
    assert codes(path) == [f"{path}:352: error: L006", f"{path}:1798: error: L006"]
    assert "graded test cell" in lint_file(path)[0].message
    assert "never closed" in lint_file(path)[1].message


def test_L006_hidden_tests_allowed_in_graded_test_cell(make_source):
    path = make_source(("    print(\"🎯 Training Pipeline: All comprehensive tests passed!\")\n",
                        "    print(\"🎯 Training Pipeline: All comprehensive tests passed!\")\n"
                        "    ### BEGIN HIDDEN TESTS\n    assert True\n    ### END HIDDEN TESTS\n"))
    assert lint_file(path) == []


def test_L007_unlocked_test_cell_is_a_warning(make_source):
    path = make_source((SEED_TEST_HEADER, SEED_TEST_HEADER.replace('"locked": true', '"locked": false')))
    assert codes(path) == [f"{path}:1726: warning: L007"]


def test_L008_syntax_error_exact_line(make_source):
    path = make_source(("        mse = MeanSquaredError()\n", "        mse = MeanSquaredError(\n"))
    assert path.read_text(encoding="utf-8").split("\n")[1732] == "        mse = MeanSquaredError("
    # Python reports an unclosed '(' on the line that opens it: cell body starts at 1727, lineno 7
    assert codes(path) == [f"{path}:1733: error: L008"]
    assert "was never closed" in lint_file(path)[0].message


def test_L008_line_is_cell_start_plus_lineno(tmp_path):
    path = write(tmp_path, (
        "# %%\nimport os\n\n"
        "# %%\n\n"  # a leading blank line (IPython drops it; the line must not move)
        "x = 1\n"
        "def f(:\n"
        "    pass\n"
    ))
    assert codes(path) == [f"{path}:7: error: L008"]


def test_L008_ipython_syntax_is_not_an_error(tmp_path):
    path = write(tmp_path, (
        "# %%\n%matplotlib inline\n!ls -l\nimport os\nos.path?\nfiles = !ls\n%time x = 1\n"
        "#| hide\nawait something()\n"
        "# %%\n%%bash\nthis is { not python\n"
    ))
    assert lint_file(path) == []


def test_L009_test_cell_without_test_function(make_source):
    path = make_source(
        ("def test_module_training():\n", "def check_module_training():\n"),
    )
    assert codes(path) == [f"{path}:1726: error: L009"]


def test_L009_nbgrader_style_top_level_checks_are_fine(tmp_path):
    head = ('# %% nbgrader={"grade": true, "grade_id": "GID", "locked": true, "points": 1, '
            '"schema_version": 3, "solution": false, "task": false}\n')
    path = write(tmp_path, (
        head.replace("GID", "asserts") + "assert squares(1) == [1]\n"
        + head.replace("GID", "raises") + "try:\n    squares(0)\nexcept ValueError:\n    pass\n"
        "else:\n    raise AssertionError('no error')\n"
        + head.replace("GID", "calls") + "check_squares(squares)\n"
        + head.replace("GID", "nothing") + '"""Only a docstring."""\nx = 1\n'
        "def helper():\n    assert x == 1\n"
    ))
    assert codes(path) == [f"{path}:12: error: L009"]


def test_L010_export_without_default_exp_and_duplicates(make_source, tmp_path):
    path = make_source(("#| default_exp core.training\n", "\n"))
    assert codes(path) == [f"{path}:45: error: L010"]

    twice = make_source(("#| default_exp core.training\n", "#| default_exp core.training\n#| default_exp core.other\n"),
                        name="twice.py")
    assert codes(twice) == [f"{twice}:44: error: L010"]
    assert "line 43" in lint_file(twice)[0].message


def test_L011_markdown_grade_without_solution(tmp_path):
    path = write(tmp_path, (
        '# %% [markdown] nbgrader={"grade": true, "grade_id": "essay", "locked": false, "points": 2, '
        '"schema_version": 3, "solution": false, "task": false}\n"""\nExplain.\n"""\n'
    ))
    assert codes(path) == [f"{path}:1: error: L011"]


def test_problems_sorted_by_line(make_source):
    path = make_source(
        (SEED_TEST_HEADER, SEED_TEST_HEADER.replace('"locked": true', '"locked": false')),
        ('"grade_id": "test-mse-loss"', '"grade_id": "mse-loss"'),
        ("#| default_exp core.training\n", "\n"),
    )
    lines = [p.line for p in lint_file(path)]
    assert lines == sorted(lines) and lines == [45, 350, 1726]


def test_file_jupytext_rejects_is_still_linted(tmp_path):
    path = write(tmp_path, "# %% nbgrader={'grade': true\nx = (\n")
    assert [p.code for p in lint_file(path)] == ["L001", "L008"]


def test_unreadable_source(tmp_path):
    path = tmp_path / "binary.py"
    path.write_bytes(b"\xff\xfe\x00bad")
    assert codes(path) == [f"{path}:1: error: L000"]
    notebook = write(tmp_path, "{not json", name="broken.ipynb")
    assert codes(notebook) == [f"{notebook}:1: error: L000"]


# --- .ipynb ------------------------------------------------------------------------

jupytext = pytest.importorskip("jupytext")


def to_notebook(path: Path) -> Path:
    out = path.with_suffix(".ipynb")
    jupytext.write(jupytext.read(path), out)
    return out


def test_notebook_from_seed_is_clean(make_source):
    assert lint_file(to_notebook(make_source())) == []


def test_notebook_problems_point_at_cell_type_line(make_source):
    path = make_source(
        ('"grade_id": "test-mse-loss"', '"grade_id": "mse-loss"'),
        ("        mse = MeanSquaredError()\n", "        mse = MeanSquaredError(\n"),
    )
    notebook = to_notebook(path)
    text = notebook.read_text(encoding="utf-8")
    positions = cell_type_lines(text)
    cells = nbformat.reads(text, as_version=4).cells
    assert len(positions) == len(cells)
    dup = [i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "mse-loss"][1]
    graded = next(i for i, c in enumerate(cells)
                  if c.metadata.get("nbgrader", {}).get("grade_id") == "test-training-comprehensive")
    problems = lint_file(notebook)
    assert codes(notebook) == [f"{notebook}:{positions[dup]}: error: L003",
                               f"{notebook}:{positions[graded]}: error: L008"]
    assert text.split("\n")[positions[dup] - 1].strip().startswith('"cell_type"')
    assert problems[0].message.startswith(f"cell {dup + 1}: ")
    assert problems[1].message.startswith(f"cell {graded + 1}, line 7: ")
