"""A one-module course whose locked test is weak on purpose, for `grader mutants`.

`01_scale` has a solution cell `scale-double` (double(x) = 2 * x) and a solution cell
`scale-setup` with top-level code between the markers: a table read at definition
time (a mutant that breaks it fails to "import") and a counting loop (a mutant that
never ends times out). The locked test only checks double(0) == 0, so a double that
returns 0 survives; the assessment `scale-facts` checks its own answer.
"""
from __future__ import annotations

import sys
from pathlib import Path
from support.authoring import JUPYTEXT_HEADER, meta

ROOT = Path(__file__).resolve().parents[2]
GRADER = Path(sys.executable).parent / "grader"


SCALE = JUPYTEXT_HEADER + f'''
# %% [markdown]
"""
# Scale
"""

# %% {meta("scale-imports")}
import numpy as np

# %% {meta("scale-double", solution=True)}
def double(x):
    """Twice x."""
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION

# %% {meta("scale-setup", solution=True)}
### BEGIN SOLUTION
STEPS = [1, 2]
FIRST = STEPS[0]
n = 0
while n < 3:
    n += 1
### END SOLUTION

# %% {meta("scale-facts", grade=True, solution=True, points=2)}
def scale_facts():
    """A dict of facts."""
    ### BEGIN SOLUTION
    return {{"six": 6, "half": 0.5}}
    ### END SOLUTION

# %% {meta("test-scale-weak", grade=True, locked=True, points=3)}
def test_scale():
    """Checks far too little."""
    assert double(0) == 0, "double(0) should be 0"
'''

COURSE_TOML = '''\
[course]
id = "scaletest"
title = "Scale test"
framework = "tinytorch"
build_dir = "build"

[policy]
cell_timeout_s = 30
item_timeout_s = 30

[[modules]]
id = "01_scale"
title = "Scale"
due = "2026-09-14T23:59:00Z"
assessments = ["scale-facts"]
'''


def write_scale_course(root: Path, *, extra_toml: str = "") -> Path:
    (root / "course").mkdir(parents=True)
    (root / "course" / "course.toml").write_text(COURSE_TOML + extra_toml, encoding="utf-8")
    folder = root / "source" / "01_scale"
    folder.mkdir(parents=True)
    (folder / "scale_dev.py").write_text(SCALE, encoding="utf-8")
    return root


def line_of(root: Path, needle: str) -> int:
    text = (root / "source" / "01_scale" / "scale_dev.py").read_text(encoding="utf-8")
    hits = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(hits) == 1, hits
    return hits[0]


