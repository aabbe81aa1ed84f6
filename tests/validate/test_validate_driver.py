"""`grader validate` names the line of a locked test that the trusted driver cannot carry."""
from __future__ import annotations

CALLBACK_TEST = ('''    assert double(2) == 4, "double(2) should be 4"
''', '''    assert double(2) == 4, "double(2) should be 4"
    assert list(map(lambda x: double(x), [1])) == [2]
    assert apply_twice(lambda x: x + 1, 1) == 3, "a callback handed to student code"
''')
HELPER = ('''#| export
def double(x):''', '''#| export
def apply_twice(f, x):
    """Calls the function it is given (a test would pass its own callback)."""
    return f(f(x))

def double(x):''')


def test_a_test_the_driver_cannot_carry_is_reported_at_its_line(course):
    course.edit(*HELPER)
    course.edit(*CALLBACK_TEST)
    course.release("01_tiny")
    run = course.validate("01_tiny")
    assert ("01_tiny", "reference") in run.failed()
    line = course.line('assert apply_twice(lambda x: x + 1, 1) == 3')
    problem = next(p for p in run.problems if "test-tiny-comprehensive" in p)
    assert problem.startswith(f"source/01_tiny/tiny_dev.py:{line}: "), problem
    assert "cannot be passed to student code" in problem and "in_kernel = true" in problem


def test_the_course_can_run_such_a_test_in_the_kernel_and_its_result_says_so(course):
    course.edit(*HELPER)
    course.edit(*CALLBACK_TEST)
    toml = course.root / "course" / "course.toml"
    toml.write_text(toml.read_text() + '\n[items."01_tiny"."test-tiny-comprehensive"]\n'
                    'in_kernel = true\n')
    course.release("01_tiny")
    run = course.validate("01_tiny")
    assert ("01_tiny", "reference") not in run.failed(), run.problems

    import nbformat
    from grader.course import load_course
    from grader.harness.grade import grade_submission
    from grader.harness.session import open_context
    from grader.module import load_module
    loaded = load_course(course.root)
    module = load_module(course.root, "01_tiny")
    folder = course.root / "submitted" / "ref" / "01_tiny"
    folder.mkdir(parents=True)
    nbformat.write(module.source.notebook, folder / module.notebook_name)
    with open_context(loaded, "01_tiny", timeout_s=10) as ctx:
        result = grade_submission(ctx, "ref", folder).result.to_json()
    notices = [n for n in result["notices"] if n["kind"] == "isolation"
               and n["cell"] == "test-tiny-comprehensive"]
    assert notices and "in_kernel = true" in notices[0]["message"]
