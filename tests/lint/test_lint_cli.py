"""`grader lint` on the command line: output format, module/file arguments, exit codes."""
from __future__ import annotations

import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import cli
from grader.lint.command import main

BROKEN_ID = ('"grade_id": "test-mse-loss"', '"grade_id": "mse-loss"')
UNLOCKED = ('"grade_id": "test-training-comprehensive", "locked": true',
            '"grade_id": "test-training-comprehensive", "locked": false')
LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<severity>error|warning): (?P<code>L\d{3}) .+ \(fix: .+\)$")


def run(course: Path, *args: str):
    return CliRunner().invoke(cli, ["--course", str(course), "lint", *args])


@pytest.fixture
def course(tmp_path: Path, seed_text: str) -> Path:
    """A course with two modules: 01_basics (clean) and 09_training (the seed)."""
    root = tmp_path / "course_root"
    (root / "source/01_basics").mkdir(parents=True)
    (root / "source/09_training").mkdir(parents=True)
    (root / "source/01_basics/basics_dev.py").write_text(
        '# %% nbgrader={"grade": false, "grade_id": "hello", "locked": false, "schema_version": 3, '
        '"solution": true, "task": false}\ndef hello():\n    ### BEGIN SOLUTION\n    return 1\n'
        "    ### END SOLUTION\n", encoding="utf-8")
    (root / "source/09_training/training_dev.py").write_text(seed_text, encoding="utf-8")
    (root / "source/09_training/notes.txt").write_text("not a source", encoding="utf-8")
    return root


def test_clean_file_exits_0(course):
    result = run(course, str(course / "source/09_training/training_dev.py"))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert result.stderr.strip() == "1 file clean"


def test_errors_exit_1_with_file_line_format(make_source, course):
    path = make_source(BROKEN_ID, UNLOCKED)
    result = run(course, str(path))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{path}:350: error: L003 duplicate grade_id 'mse-loss'")
    assert lines[1].startswith(f"{path}:1726: warning: L007 ")
    assert all(LINE.match(line) for line in lines), lines
    assert result.stderr.strip() == "1 error, 1 warning in 1 file"


def test_warnings_only_exit_0(make_source, course):
    path = make_source(UNLOCKED)
    result = run(course, str(path))
    assert result.exit_code == 0
    assert result.stdout.startswith(f"{path}:1726: warning: L007")


def test_missing_path_is_a_usage_error(course):
    result = run(course, str(course / "does-not-exist.py"))
    assert result.exit_code == 2
    assert "neither a file nor a module" in result.stderr


def test_no_source_folder_is_a_usage_error(tmp_path):
    result = run(tmp_path)
    assert result.exit_code == 2
    assert "no source/ folder" in result.stderr


def test_module_argument_and_no_arguments(course, monkeypatch):
    monkeypatch.chdir(course)
    broken = course / "source/09_training/training_dev.py"
    broken.write_text(broken.read_text(encoding="utf-8").replace(*BROKEN_ID), encoding="utf-8")

    only_basics = run(course, "01_basics")
    assert only_basics.exit_code == 0
    assert only_basics.stderr.strip() == "1 file clean"

    training = run(course, "09_training")
    assert training.exit_code == 1
    assert training.stdout.startswith("source/09_training/training_dev.py:350: error: L003")

    everything = run(course)
    assert everything.exit_code == 1
    assert everything.stdout == training.stdout
    assert everything.stderr.strip() == "1 error, 0 warnings in 1 file"


def test_fix_then_relint(make_source, course):
    path = make_source(('"locked": false, "schema_version": 3, "solution": false, "task": false}\n#| default_exp',
                        '"locked": false, "solution": false}\n#| default_exp'))
    assert run(course, str(path)).exit_code == 1
    result = run(course, "--fix", str(path))
    assert result.exit_code == 0, result.output
    assert "fixed metadata on 1 cell header" in result.stderr
    assert result.stderr.strip().endswith("1 file clean")


def test_notebook_argument(make_source, course):
    jupytext = pytest.importorskip("jupytext")
    path = make_source(BROKEN_ID)
    notebook = path.with_suffix(".ipynb")
    jupytext.write(jupytext.read(path), notebook)
    result = run(course, str(notebook))
    assert result.exit_code == 1
    assert LINE.match(result.stdout.splitlines()[0])
    assert f"{notebook}:" in result.stdout and "L003" in result.stdout


def test_colour_keeps_the_plain_format(make_source):
    path = make_source(BROKEN_ID)
    plain, coloured, err = StringIO(), StringIO(), StringIO()
    assert main(paths=[path], out=plain, err=err, color=False) == 1
    assert main(paths=[path], out=coloured, err=err, color=True) == 1
    assert "\x1b[" in coloured.getvalue()
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured.getvalue()) == plain.getvalue()


def test_real_console_script(make_source, course):
    script = Path(sys.executable).parent / "grader"
    if not script.exists():
        pytest.skip("console script `grader` is not installed in this environment")
    clean = subprocess.run([script, "--course", str(course), "lint", "09_training"],
                           capture_output=True, text=True, timeout=120)
    assert (clean.returncode, clean.stdout, clean.stderr.strip()) == (0, "", "1 file clean")

    path = make_source(BROKEN_ID)
    broken = subprocess.run([script, "--course", str(course), "lint", str(path)],
                            capture_output=True, text=True, timeout=120)
    assert broken.returncode == 1
    assert broken.stdout.startswith(f"{path}:350: error: L003")

    missing = subprocess.run([script, "--course", str(course), "lint", "no_such_module"],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2
    assert "no_such_module" in missing.stderr
