"""A copy of the demo course (course.toml, sources, releases) in a temp folder: what the
harness and security tests grade against, so no test writes into the checkout."""
from __future__ import annotations

import shutil
from pathlib import Path

from grader.course import Course, load_course

ROOT = Path(__file__).resolve().parents[2]


def copy_course(dest: Path, parts: tuple[str, ...] = ("course", "source", "release")) -> Course:
    for name in parts:
        shutil.copytree(ROOT / name, dest / name)
    return load_course(dest)
