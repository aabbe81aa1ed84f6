"""A release never shows solutions or hidden tests, however a marker is misspelled.

Every case edits a real demo source in a temp copy of the course, then runs the
real `grader release` / `grader autograde` (lint first: exit 2, one FILE:LINE per
problem, nothing written) and, bypassing lint, the release library itself (its own
leak check must refuse on its own).
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from grader.course import load_course
from grader.errors import SourceError, SourceProblems
from grader.release import release
from support.demo_course import run_grader

GRADER = Path(sys.executable).parent / "grader"
ACTIVATIONS = "source/02_activations/activations_dev.py"
LAYERS = "source/03_layers/layers_dev.py"

SOLUTION_CELL = '''
# %% nbgrader={{"grade": false, "grade_id": "extra-solution", "locked": false, "schema_version": 3, "solution": true, "task": false}}
def extra_one():
    ### BEGIN SOLUTION
    return 1
    ### END SOLUTION


def extra_two():
    {marker}
    return "CODE-SECRET"
    ### END SOLUTION
'''

MARKDOWN_CELL = '''
# %% [markdown] nbgrader={{"grade": true, "grade_id": "extra-answer", "locked": false, "points": 1, "schema_version": 3, "solution": true, "task": false}}
"""
Explain why ReLU is cheap.

### BEGIN SOLUTION
It compares with zero.
### END SOLUTION

{marker}
MARKDOWN-SECRET: no exponentials.
### END SOLUTION
"""
'''

# (misspelled BEGIN line, whether nbgrader 0.9 itself would miss it and publish the region)
SOLUTION_MISSPELLINGS = [
    ("### BEGIN SOLUTON", True),
    ("### begin solution", True),
    ("###  BEGIN  SOLUTION", True),
    ("### START SOLUTION", True),
    ("##BEGIN SOLUTION", False),   # nbgrader happens to accept it; lint still wants `### `
]
HIDDEN_MISSPELLINGS = [
    ("### BEGIN HIDDEN TEST", True),
    ("### Begin Hidden Tests", True),
    ("### BEGIN HIDDEN  TESTS", True),
]


def grader(root: Path, *args: str):
    return run_grader(root, *args, cwd=root)


def append(root: Path, relpath: str, text: str) -> None:
    path = root / relpath
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def replace(root: Path, relpath: str, old: str, new: str) -> None:
    path = root / relpath
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not unique in {relpath}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(root: Path, relpath: str, needle: str) -> int:
    lines = (root / relpath).read_text(encoding="utf-8").split("\n")
    return next(n for n, line in enumerate(lines, 1) if needle in line)


def release_digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "release").rglob("*")) if p.is_file()}


def problem_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("source/")]


def assert_refused(proc: subprocess.CompletedProcess, expected: list[tuple[str, int, str]]) -> None:
    """Exit 2, exactly the expected `FILE:LINE: error: CODE` lines, no traceback."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    found = [line.split(" ", 3)[:3] for line in problem_lines(proc.stderr)]
    assert found == [[f"{path}:{line}:", "error:", code] for path, line, code in expected], \
        proc.stderr
    assert proc.stderr.splitlines()[-1].startswith("grader: error: release refused") or \
        proc.stderr.splitlines()[-1].startswith("grader: error: autograde refused")


@pytest.mark.parametrize("marker,nbgrader_misses", SOLUTION_MISSPELLINGS)
def test_misspelled_solution_marker_in_a_code_cell(course_root, marker, nbgrader_misses):
    append(course_root, ACTIVATIONS, SOLUTION_CELL.format(marker=marker))
    before = release_digests(course_root)
    proc = grader(course_root, "release", "02_activations")
    assert_refused(proc, [(ACTIVATIONS, line_of(course_root, ACTIVATIONS, marker), "L012")])
    assert f"`{marker}` looks like `### BEGIN SOLUTION`" in proc.stderr
    assert release_digests(course_root) == before  # nothing written

    # Without lint, the release's own check refuses whatever nbgrader did with it.
    course = load_course(course_root)
    if nbgrader_misses:
        with pytest.raises(SourceProblems) as info:
            release(course, ["02_activations"])
        secret = line_of(course_root, ACTIVATIONS, "CODE-SECRET")
        assert f"{ACTIVATIONS}:{secret}: the release would show students" in str(info.value)
        assert release_digests(course_root) == before
    else:
        [result] = release(course, ["02_activations"])
        assert "CODE-SECRET" not in result.path.read_text()


@pytest.mark.parametrize("marker,nbgrader_misses", SOLUTION_MISSPELLINGS)
def test_misspelled_solution_marker_in_a_markdown_cell(course_root, marker, nbgrader_misses):
    append(course_root, ACTIVATIONS, MARKDOWN_CELL.format(marker=marker))
    proc = grader(course_root, "release", "02_activations")
    assert_refused(proc, [(ACTIVATIONS, line_of(course_root, ACTIVATIONS, marker), "L012")])
    if nbgrader_misses:
        with pytest.raises(SourceProblems) as info:
            release(load_course(course_root), ["02_activations"])
        assert "MARKDOWN-SECRET" in str(info.value)
    assert "MARKDOWN-SECRET" not in (course_root / "release/02_activations/activations_dev.ipynb").read_text()


@pytest.mark.parametrize("marker,nbgrader_misses", HIDDEN_MISSPELLINGS)
def test_misspelled_hidden_tests_marker(course_root, marker, nbgrader_misses):
    replace(course_root, LAYERS, "    ### BEGIN HIDDEN TESTS", f"    {marker}")
    hidden = "A batch of 7 should give 7 outputs."
    proc = grader(course_root, "release", "03_layers")
    assert_refused(proc, [(LAYERS, line_of(course_root, LAYERS, marker), "L012")])
    with pytest.raises(SourceProblems) as info:
        release(load_course(course_root), ["03_layers"])
    assert f"{LAYERS}:{line_of(course_root, LAYERS, hidden)}: the release would show" in str(info.value)
    assert hidden not in (course_root / "release/03_layers/layers_dev.ipynb").read_text()


def test_misspelled_end_marker_is_one_line_not_a_traceback(course_root):
    replace(course_root, LAYERS, "    ### END HIDDEN TESTS", "    ### END HIDDEN TEST")
    end = line_of(course_root, LAYERS, "### END HIDDEN TEST")
    assert_refused(grader(course_root, "release", "03_layers"), [(LAYERS, end, "L012")])
    # nbgrader itself fails on the unclosed region; that too is FILE:LINE, not a traceback
    with pytest.raises(SourceError) as info:
        release(load_course(course_root), ["03_layers"])
    assert str(info.value).startswith(f"{course_root / LAYERS}:"
                                      f"{line_of(course_root, LAYERS, 'test-layers-comprehensive')}:")
    assert "ClearHiddenTests" in str(info.value)


def test_misspelled_end_solution_marker(course_root):
    append(course_root, ACTIVATIONS, SOLUTION_CELL.format(marker="### BEGIN SOLUTION")
           .replace("    return 1\n    ### END SOLUTION", "    return 1\n    ### END SOLUTON"))
    end = line_of(course_root, ACTIVATIONS, "### END SOLUTON")
    assert_refused(grader(course_root, "release", "02_activations"), [(ACTIVATIONS, end, "L012")])


def test_duplicate_grade_id_stops_release_and_autograde_before_writing(course_root):
    replace(course_root, LAYERS, '"grade_id": "test-linear"', '"grade_id": "test-matmul"')
    uses = [n for n, line in enumerate((course_root / LAYERS).read_text().split("\n"), 1)
            if '"grade_id": "test-matmul"' in line]
    second = uses[1]
    before = release_digests(course_root)
    assert_refused(grader(course_root, "release", "03_layers"), [(LAYERS, second, "L003")])
    assert release_digests(course_root) == before
    proc = grader(course_root, "autograde", "03_layers")
    assert_refused(proc, [(LAYERS, second, "L003")])
    assert "duplicate grade_id 'test-matmul'" in proc.stderr
    assert "unique within a job" not in proc.stderr
    written = {p.name for p in course_root.iterdir()}
    assert written == {"course", "source", "release"}  # no gradebook, results or builds


def test_clean_sources_still_release(course_root):
    proc = grader(course_root, "release", "02_activations", "03_layers")
    assert proc.returncode == 0, proc.stderr
    assert "release/03_layers/layers_dev.ipynb: unchanged" in proc.stdout


def test_lint_first_reads_the_course_sources_not_a_same_named_folder_here(course_root, tmp_path):
    here = tmp_path / "elsewhere"
    (here / "02_activations").mkdir(parents=True)
    (here / "02_activations" / "broken.ipynb").write_text("{ not a notebook")
    proc = subprocess.run([str(GRADER), "--course", str(course_root), "release", "02_activations"],
                          capture_output=True, text=True, timeout=300, cwd=here)
    assert proc.returncode == 0, proc.stderr
    assert "release/02_activations/activations_dev.ipynb: unchanged" in proc.stdout


def test_a_raw_cell_between_markers_is_caught_by_the_release_itself(course_root):
    # (exact markers in a raw cell make nbgrader itself refuse; misspelled ones pass it)
    append(course_root, ACTIVATIONS, '\n# %% [raw]\n# ### BEGIN SOLUTON\n# RAW-SECRET\n'
                                      '# ### END SOLUTON\n')
    begin = line_of(course_root, ACTIVATIONS, "### BEGIN SOLUTON")
    assert_refused(grader(course_root, "release", "02_activations"),
                   [(ACTIVATIONS, begin, "L012"), (ACTIVATIONS, begin + 2, "L012")])
    with pytest.raises(SourceProblems) as info:
        release(load_course(course_root), ["02_activations"])
    assert "RAW-SECRET" in str(info.value)
