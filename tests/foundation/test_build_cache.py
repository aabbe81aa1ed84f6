"""What is kept under build/ between runs (grader/cache.py): parsed sources and clean
lint results, keyed by the source's text and grader's own code."""
from __future__ import annotations

import subprocess
import sys

import pytest

from grader.errors import SourceProblems
from grader.lint.command import refuse_on_errors

READ = ("import sys\nfrom pathlib import Path\nfrom grader.course import load_course\n"
        "from grader.module import load_module\n"
        "course = load_course(Path('.'))\n"
        "m = load_module(course.root, '02_activations', course=course)\n"
        "print('jupytext' in sys.modules, len(m.items), [c.line for c in m.source.cells][:5],"
        " m.source.sha256)\n")


def read_in_new_process(course_root):
    run = subprocess.run([sys.executable, "-c", READ], capture_output=True, text=True,
                         cwd=course_root, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout.split(" ", 1)


def test_a_parsed_source_is_read_back_until_its_text_changes(course_root) -> None:
    first_used_jupytext, first = read_in_new_process(course_root)
    again_used_jupytext, again = read_in_new_process(course_root)
    assert (first_used_jupytext, again_used_jupytext) == ("True", "False")
    assert again == first                        # the same module, cells and lines
    source = next((course_root / "source" / "02_activations").glob("*_dev.py"))
    source.write_text(source.read_text(encoding="utf-8").replace(
        "# %%", "# %%\n# one more line", 1), encoding="utf-8")
    changed_used_jupytext, changed = read_in_new_process(course_root)
    assert changed_used_jupytext == "True" and changed != first
    assert len(list((course_root / "build" / "sources").glob("02_activations-*.json"))) == 1


def test_a_clean_lint_is_kept_but_a_source_edited_after_it_is_linted_again(course_root) -> None:
    refuse_on_errors(course=course_root, module_ids=["02_activations"], command="autograde")
    assert list((course_root / "build" / "lint").glob("*.json"))
    source = next((course_root / "source" / "02_activations").glob("*_dev.py"))
    text = source.read_text(encoding="utf-8")
    assert "### BEGIN SOLUTION" in text
    source.write_text(text.replace("### BEGIN SOLUTION", "### BEGIN SOLUTON", 1), encoding="utf-8")
    for _ in range(2):                           # refused every time, never remembered
        with pytest.raises(SourceProblems):
            refuse_on_errors(course=course_root, module_ids=["02_activations"],
                             command="autograde")



def test_a_build_folder_that_refuses_writes_only_costs_time(course_root) -> None:
    """Nothing can be kept (build/sources and build/lint are files, so even root cannot
    write below them): the source is parsed and linted again each time, without error."""
    (course_root / "build").mkdir(exist_ok=True)
    for name in ("sources", "lint"):
        (course_root / "build" / name).write_text("not a folder", encoding="utf-8")
    for _ in range(2):
        used_jupytext, read = read_in_new_process(course_root)
        assert used_jupytext == "True" and read
        refuse_on_errors(course=course_root, module_ids=["02_activations"], command="autograde")
