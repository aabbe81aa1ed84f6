"""`--fix`: mechanical metadata repairs, bodies untouched."""
from __future__ import annotations

from grader.lint import fix_file, lint_file

IMPORTS = ('{"grade": false, "grade_id": "training-imports", "locked": false, "schema_version": 3, '
           '"solution": false, "task": false}')
MSE = ('{"grade": false, "grade_id": "mse-loss", "locked": false, "schema_version": 3, '
       '"solution": true, "task": false}')
MSE_TEST = ('{"grade": false, "grade_id": "test-mse-loss", "locked": false, "schema_version": 3, '
            '"solution": false, "task": false}')
COMPREHENSIVE = ('{"grade": true, "grade_id": "test-training-comprehensive", "locked": true, "points": 25, '
                 '"schema_version": 3, "solution": false, "task": false}')

OLD_SCHEMA_EDITS = (
    # no schema_version at all (schema 0) and no task
    (IMPORTS, '{"grade": false, "grade_id": "training-imports", "locked": false, "solution": false}'),
    # a Python dict: single quotes, capitalised booleans, trailing comma
    (MSE, "{'grade': False, 'grade_id': 'mse-loss', 'locked': False, 'schema_version': 3, "
          "'solution': True, 'task': False,}"),
    # schema 1, keys out of order, task missing
    (MSE_TEST, '{"schema_version": 1, "grade_id": "test-mse-loss", "solution": false, "locked": false, '
               '"grade": false}'),
    # schema 2 with points stored as a string and solution missing
    (COMPREHENSIVE, '{"grade": true, "grade_id": "test-training-comprehensive", "locked": true, '
                    '"points": "25", "schema_version": 2}'),
)


def test_fix_restores_the_seed_byte_for_byte(make_source, seed_text):
    path = make_source(*OLD_SCHEMA_EDITS)
    before = lint_file(path)
    assert {p.code for p in before} >= {"L001", "L002"}
    assert any(p.is_error for p in before)

    assert fix_file(path) == 4
    assert lint_file(path) == []
    # every line but the four headers was already identical; now the whole file is
    assert path.read_bytes() == seed_text.encode("utf-8")
    assert fix_file(path) == 0  # idempotent


def test_fix_never_touches_bodies(tmp_path):
    body = ("def test_x():\r\n    assert  1 ==1   \r\n\x0c\r\n    ### BEGIN HIDDEN TESTS\r\n"
            "    assert True\r\n    ### END HIDDEN TESTS\r\n\r\n\r\n")
    header = "# %% tags=[\"keep\"] nbgrader={'grade': True, 'grade_id': 't', 'points': 1, 'locked': True}  \r\n"
    path = tmp_path / "crlf.py"
    path.write_bytes((header + body).encode("utf-8"))

    assert fix_file(path) == 1
    data = path.read_bytes().decode("utf-8")
    new_header, new_body = data.split("\r\n", 1)
    assert new_body == body
    assert new_header == ('# %% tags=["keep"] nbgrader={"grade": true, "grade_id": "t", "locked": true, '
                          '"points": 1, "schema_version": 3, "solution": false, "task": false}  ')
    assert lint_file(path) == []


def test_fix_leaves_what_it_cannot_repair(tmp_path):
    path = tmp_path / "mixed.py"
    path.write_text(
        '# %% nbgrader={"grade": tru\nx = 1\n'
        '# %% nbgrader={"grade": true, "locked": true, "points": 1, "solution": false}\n'
        "def test_a():\n    assert True\n",
        encoding="utf-8",
    )
    assert fix_file(path) == 1
    remaining = lint_file(path)
    assert [(p.line, p.code) for p in remaining] == [(1, "L001"), (3, "L002")]
    assert "--fix" not in remaining[0].fix
    assert "missing grade_id" in remaining[1].message
    assert remaining[1].fix.startswith('add "grade_id"')
    assert path.read_text(encoding="utf-8").split("\n")[0] == '# %% nbgrader={"grade": tru'


def test_fix_skips_notebooks(tmp_path):
    path = tmp_path / "x.ipynb"
    path.write_text("{}", encoding="utf-8")
    assert fix_file(path) == 0
    assert path.read_text(encoding="utf-8") == "{}"
