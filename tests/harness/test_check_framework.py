"""A student's `grader check` outside the course: without the course framework it stops
with one line saying what to fix (exit 2) instead of failing every test with NameError."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GRADER = Path(sys.executable).parent / "grader"


def check(folder: Path, notebook: str, pythonpath: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return subprocess.run([str(GRADER), "check", notebook], capture_output=True, text=True,
                          cwd=folder, env=env, timeout=300)


@pytest.fixture
def student_folder(tmp_path: Path) -> Path:
    """What a student has: the released notebooks, no course, no framework installed."""
    folder = tmp_path / "student"
    folder.mkdir()
    for module, name in (("09_training", "training_dev.ipynb"), ("01_tensor", "tensor_dev.ipynb")):
        shutil.copy(ROOT / "release" / module / name, folder / name)
    probe = subprocess.run([sys.executable, "-c", "import tinytorch"], capture_output=True,
                           cwd=folder, env={k: v for k, v in os.environ.items()
                                            if k != "PYTHONPATH"})
    if probe.returncode == 0:
        pytest.skip("tinytorch is installed in this environment")
    return folder


def test_missing_framework_is_one_clear_line(student_folder):
    proc = check(student_folder, "training_dev.ipynb")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr and "NameError" not in proc.stderr
    assert proc.stderr.splitlines()[-1] == (
        "grader: error: the course framework `tinytorch` cannot be imported here, and "
        "training_dev.ipynb imports it: make it importable (`pip install` it, or set PYTHONPATH "
        "to the folder that holds `tinytorch/`, e.g. the course's build/framework) or run "
        "`grader --course COURSE_DIR check training_dev.ipynb` inside the course")


def test_a_module_that_does_not_import_the_framework_needs_none(student_folder):
    proc = check(student_folder, "tensor_dev.ipynb")
    assert proc.returncode == 1, proc.stderr        # the untouched release fails its tests
    assert "cannot be imported" not in proc.stderr
    assert "visible tests: 0 / 10 points" in proc.stdout


def test_with_the_framework_importable_the_check_runs(student_folder, tmp_path):
    course = tmp_path / "course-copy"
    for name in ("course", "source"):
        shutil.copytree(ROOT / name, course / name)
    built = subprocess.run([str(GRADER), "--course", str(course), "build"], capture_output=True,
                           text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    proc = check(student_folder, "training_dev.ipynb", pythonpath=str(course / "build/framework"))
    assert proc.returncode == 1, proc.stderr
    assert "visible tests: 0 / 25 points" in proc.stdout
    assert "NameError" not in proc.stdout
