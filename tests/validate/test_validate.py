"""`grader validate` on a small course copy, clean and deliberately broken.

Each case reads back what CI sees: the problem lines (`FILE:LINE: module: message`) and
the JUnit file, which says which check failed and is validated against
tests/validate/junit.xsd every time. Exit statuses, the summary table and module order
go through the real console script (`grader --course ROOT validate ... --junit FILE`);
the engine-heavy cases call the same Python API in-process, since every `grader`
process pays seconds of imports. Sources are broken by editing a copy of the tiny
course (conftest.py), and every expected line number is looked up in the edited file.
"""
from __future__ import annotations

import re

import pytest
from lxml import etree

from grader.course import load_course
from grader.validate import CHECKS, validate

TINY = "01_tiny"
TINY_PY = f"source/{TINY}/tiny_dev.py"
ENGINE_CHECKS = ("reference", "stub", "determinism", "freshness")


def only_problem(run) -> str:
    assert len(run.problems) == 1, run.problems
    return run.problems[0]


# --- the clean course ------------------------------------------------------------------

def test_clean_course_passes_every_check(course: TinyCourse):
    run = course.validate_cli()
    assert run.returncode == 0, run.stderr
    assert run.problems == []
    assert run.checks == {(m, c): "ok" for m in course.modules for c in CHECKS}
    suites = run.junit.getroot().findall("testsuite")
    assert [s.get("name") for s in suites] == list(course.modules), "one testsuite per module"
    assert "all checks passed" in run.stderr
    # the summary table: a header row and one row per module
    assert re.search(r"module\s*┃\s*lint\s*┃\s*export\s*┃\s*reference\s*┃\s*stub\s*┃"
                     r"\s*determinism\s*┃\s*freshness", run.stderr), run.stderr
    assert all(re.search(rf"{m}\s*│\s*ok", run.stderr) for m in course.modules)


# --- 4. stub: a graded item that scores on the untouched release ----------------------

VACUOUS_TEST = ('''    assert double(2) == 4, "double(2) should be 4"
    assert double(-2) == -4, "double(-2) should be -4"
    assert np.allclose(double(np.array([1.0, 2.0])), [2.0, 4.0]), "double should work on arrays"
''', '''    assert 2 * 2 == 4, "checks arithmetic, never calls double()"
''')
VACUOUS_ASSESSMENT = ('''    """Return a dict of facts computed with double()."""
''', '''    """Return a dict of facts computed with double()."""
    return {"six": 6, "half": 0.5}  # hard-coded outside the solution: the release keeps it
''')


@pytest.mark.parametrize("edit, item, kind, earned", [
    (VACUOUS_TEST, "test-tiny-comprehensive", "test", "3/3"),
    (VACUOUS_ASSESSMENT, "tiny-assessment", "assessment", "2/2"),
], ids=["test", "assessment"])
def test_item_scoring_on_the_release_is_vacuous(course: TinyCourse, edit, item, kind, earned):
    course.edit(*edit)
    course.release(TINY)
    run = course.validate(TINY)
    assert run.failed() == {(TINY, "stub")}
    assert only_problem(run) == (
        f"{TINY_PY}:{course.header(item)}: {TINY}: vacuous {kind}: the untouched release "
        f"earns {earned} on '{item}' (it passes without the solution)")


# --- 3. reference: the source must earn full marks and pass its unit tests -------------

def test_reference_failing_its_graded_test(course: TinyCourse):
    # wrong for negative numbers only: the unit test (double(3)) still passes
    course.edit("    return 2 * x\n", "    return 2 * abs(x)\n")
    course.release(TINY)
    run = course.validate(TINY)
    assert run.failed() == {(TINY, "reference")}
    problem = only_problem(run)
    # the line of the check that failed, inside the locked test
    failing = course.line('assert double(-2) == -4, "double(-2) should be -4"')
    assert failing > course.header('test-tiny-comprehensive')
    assert problem.startswith(f"{TINY_PY}:{failing}: {TINY}: "
                              "the reference earns 0/3 on 'test-tiny-comprehensive': ")
    assert "double(-2) should be -4" in problem


def test_reference_failing_its_unit_test(course: TinyCourse):
    # wrong for 3 only: the graded test never tries 3, the unit test does
    course.edit("    return 2 * x\n", "    return 2 * x + (x == 3)\n")
    course.release(TINY)
    run = course.validate(TINY)
    assert run.failed() == {(TINY, "reference")}
    problem = only_problem(run)
    assert problem.startswith(f"{TINY_PY}:{course.header('test-tiny-unit')}: {TINY}: "
                              "unit test test_unit_double failed on the reference")
    assert "double(3) should be 6" in problem


# --- 5. determinism: two reference runs must agree -------------------------------------

def test_assessment_answer_changing_between_runs(course: TinyCourse):
    course.edit('return {"six": double(3), "half": double(0.25)}',
                'return {"six": double(3), "noise": float(np.random.rand())}  # unseeded')
    course.release(TINY)
    run = course.validate(TINY)
    assert run.failed() == {(TINY, "determinism")}, run.problems
    assert only_problem(run) == (
        f"{TINY_PY}:{course.header('tiny-assessment')}: {TINY}: 'tiny-assessment' answers "
        "differently on two reference runs: volatile noise (seed the randomness or drop the key)")


# --- 6. freshness: release/ is what `grader release` would write -----------------------

def test_stale_release(course: TinyCourse):
    released = (course.root / "release" / TINY / "tiny_dev.ipynb").read_text().splitlines()
    changed_line = next(n for n, text in enumerate(released, start=1)
                        if "The smallest module" in text)
    course.edit("The smallest module", "The very smallest module")   # markdown only
    run = course.validate_cli(TINY)
    assert run.returncode == 1
    assert run.failed() == {(TINY, "freshness")}
    assert only_problem(run) == (f"release/{TINY}/tiny_dev.ipynb:{changed_line}: {TINY}: "
                                 f"release is stale: run `grader release {TINY}` and commit it")
    from grader.harness.session import answer_shapes_for
    from grader.release import release
    tiny = load_course(course.root)
    (checked,) = release(tiny, [TINY], check=True,
                         shapes_for=lambda module: answer_shapes_for(tiny, module))
    assert checked.changed and "The very smallest module" in checked.diff  # `release --check` agrees


def test_missing_release_is_stale(course: TinyCourse):
    (course.root / "release" / TINY / "tiny_dev.ipynb").unlink()
    run = course.validate(TINY)
    assert run.failed() == {(TINY, "freshness")}
    assert only_problem(run).startswith(f"release/{TINY}/tiny_dev.ipynb:1: {TINY}: release is stale")


# --- 1. lint, 2. export: problems there skip the checks that run the reference ---------

def _duplicate_id(course: TinyCourse) -> tuple[int, str]:
    first, line = course.header("tiny-double"), course.header("test-tiny-unit")
    course.edit('"grade_id": "test-tiny-unit"', '"grade_id": "tiny-double"')
    return line, f"lint L003: duplicate grade_id 'tiny-double' (first used at line {first})"


def _solution_outside_solution_cell(course: TinyCourse) -> tuple[int, str]:
    course.edit('    assert double(3) == 6, "double(3) should be 6"\n',
                '    ### BEGIN SOLUTION\n    assert double(3) == 6, "double(3) should be 6"\n'
                '    ### END SOLUTION\n')
    # the marker's own line, inside the (ungraded, non-solution) unit-test cell
    lines = course.text().splitlines()
    start = course.header("test-tiny-unit")
    line = next(n for n in range(start, len(lines) + 1) if "### BEGIN SOLUTION" in lines[n - 1])
    return line, ("lint L005: solution marker in cell 'test-tiny-unit' that is not a solution "
                  "cell (solution: true)")


@pytest.mark.parametrize("breakage", [_duplicate_id, _solution_outside_solution_cell],
                         ids=["duplicate-grade-id", "solution-marker-outside-solution-cell"])
def test_lint_error_skips_the_reference_checks(course: TinyCourse, breakage):
    line, message = breakage(course)
    run = course.validate_cli(TINY)
    assert run.returncode == 1
    assert run.problems == [f"{TINY_PY}:{line}: {TINY}: {message}"]
    assert run.checks[(TINY, "lint")] == "failed"
    assert run.checks[(TINY, "export")] == "ok"        # export is independent of lint
    assert {c: run.checks[(TINY, c)] for c in ENGINE_CHECKS} == dict.fromkeys(ENGINE_CHECKS,
                                                                               "skipped")
    suite = run.junit.getroot().find("testsuite")
    failure = suite.find("testcase[@name='lint']/failure")
    assert failure.get("message") == run.problems[0]
    assert failure.text.splitlines() == run.problems
    assert {s.get("message") for s in suite.findall("testcase/skipped")} == {"lint errors"}


def test_export_that_does_not_import(course: TinyCourse):
    course.edit("#| export\nimport numpy as np\n",
                "#| export\nimport numpy as np\nimport tinytorch_no_such_dependency\n")
    run = course.validate(TINY)
    assert only_problem(run).startswith(
        f"{TINY_PY}:{course.header('tiny-imports')}: {TINY}: the exported tinytorch.core.tiny "
        "does not import: ModuleNotFoundError: No module named 'tinytorch_no_such_dependency'")
    assert run.checks[(TINY, "lint")] == "ok"
    assert run.checks[(TINY, "export")] == "failed"
    assert all(run.checks[(TINY, c)] == "skipped" for c in ENGINE_CHECKS)


# --- command line and API details ------------------------------------------------------

def test_modules_run_in_course_order(course: TinyCourse):
    course.edit('"grade_id": "test-tiny-unit"', '"grade_id": "tiny-double"')  # lint: no engine
    course.edit('"grade_id": "twice-assessment"', '"grade_id": "twice-quadruple"', "02_twice")
    run = course.validate_cli("02_twice", TINY)
    assert run.returncode == 1
    assert [s.get("name") for s in run.junit.getroot().findall("testsuite")] == [TINY, "02_twice"]
    assert [p.split(":")[0] for p in run.problems] == [TINY_PY, "source/02_twice/twice_dev.py"]


def test_unknown_module_is_a_usage_error(course: TinyCourse):
    proc = course.grader("validate", "99_nope")
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert proc.stdout == ""


def test_python_api_outcomes(course: TinyCourse):
    second_use = course.header("test-tiny-unit")
    course.edit('"grade_id": "test-tiny-unit"', '"grade_id": "tiny-double"')
    seen = []
    outcomes = validate(load_course(course.root), [TINY], on_check=seen.append)
    assert outcomes == seen, "on_check sees each outcome as it is decided"
    assert [(o.module, o.check) for o in outcomes] == [(TINY, c) for c in CHECKS]
    (problem,) = outcomes[0].problems
    assert (str(problem.path), problem.line, problem.module) == (TINY_PY, second_use, TINY)
    assert str(problem).startswith(f"{TINY_PY}:{second_use}: {TINY}: lint L003: ")
    assert outcomes[1].ok and outcomes[1].skipped is None
    assert [o.skipped for o in outcomes[2:]] == ["lint errors"] * 4


def test_schema_rejects_malformed_reports(junit_schema):
    """The schema is not vacuous: it rejects what CI servers would choke on."""
    schema = junit_schema
    bad = [
        "<testsuites><testcase name='lint'/></testsuites>",                 # case outside a suite
        "<testsuites><testsuite tests='1'><testcase name='x'/></testsuite></testsuites>",  # no name
        "<testsuites><testsuite name='m' tests='1'><testcase/></testsuite></testsuites>",
        "<testsuites><testsuite name='m' tests='-1'/></testsuites>",
        "<testsuites><testsuite name='m' tests='1'><testcase name='x'><failure><b/></failure>"
        "</testcase></testsuite></testsuites>",
    ]
    for text in bad:
        assert not schema.validate(etree.fromstring(text)), text
    good = ("<testsuites><testsuite name='m' tests='1' failures='1' time='0.5'>"
            "<testcase name='x' classname='c.m' time='0.1'><failure message='m' type='t'>detail"
            "</failure></testcase></testsuite></testsuites>")
    assert schema.validate(etree.fromstring(good)), schema.error_log


def test_per_item_table_naming_no_item_fails_validate(course: TinyCourse):
    toml = course.root / "course" / "course.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text + '\n[items."01_tiny"."tiny-asessment"]\nrel_tol = 0.01\n',
                    encoding="utf-8")
    line = text.count("\n") + 2
    run = course.validate_cli(TINY)
    assert run.returncode == 1
    assert run.problems == [
        f'course/course.toml:{line}: {TINY}: [items."01_tiny"."tiny-asessment"] names no graded '
        "item of tiny_dev.py (graded: tiny-assessment, test-tiny-comprehensive)"]
    assert run.checks[(TINY, "lint")] == "failed"
    assert all(run.checks[(TINY, c)] == "skipped" for c in ENGINE_CHECKS)
