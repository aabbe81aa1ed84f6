"""nbgrader's own example course (shipped inside the installed nbgrader package),
copied to a temp folder so nothing of nbgrader's is touched (tests/nbgrader)."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbgrader
import pytest

EXAMPLE = Path(nbgrader.__file__).parent / "docs" / "source" / "user_guide"
STUDENTS = ("bitdiddle", "hacker")
NOTEBOOKS = ("problem1", "problem2")


def copy_example(dest: Path, *, notebooks: tuple[str, ...] = NOTEBOOKS) -> Path:
    """An nbgrader course folder: source/ps1, submitted/STUDENT/ps1 (only `notebooks`)."""
    if not (EXAMPLE / "source" / "ps1").is_dir():
        pytest.skip(f"nbgrader's example course is not installed at {EXAMPLE}")
    (dest / "source" / "ps1").mkdir(parents=True)
    shutil.copy(EXAMPLE / "source" / "ps1" / "jupyter.png", dest / "source" / "ps1")
    for name in notebooks:
        shutil.copy(EXAMPLE / "source" / "ps1" / f"{name}.ipynb", dest / "source" / "ps1")
    for student in STUDENTS:
        folder = dest / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        shutil.copy(EXAMPLE / "submitted" / student / "ps1" / "timestamp.txt", folder)
        for name in notebooks:
            shutil.copy(EXAMPLE / "submitted" / student / "ps1" / f"{name}.ipynb", folder)
    return dest


def write_course_toml(root: Path, extra: str = "") -> None:
    (root / "course").mkdir(exist_ok=True)
    (root / "course" / "course.toml").write_text(
        '[course]\nid = "example"\ntitle = "nbgrader example"\n\n'
        '[[modules]]\nid = "ps1"\ntitle = "Problem set 1"\n' + extra, encoding="utf-8")
