"""A two-module course small enough to validate in seconds, and a runner for it.

`01_tiny` exports `tinytorch.core.tiny.double`; `02_twice` imports it from the framework
built from 01 (so the stage builds are exercised) and exports `quadruple`. Each module
is written in the demo's authoring format (source/01_tensor/tensor_dev.py): jupytext
percent, nbgrader metadata schema 3, `#| default_exp` / `#| export`, a solution cell,
an ungraded unit test, an assessment returning a dict and a locked graded test.

Kept in conftest.py (not a helper module) so it works under `--import-mode=importlib`.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from grader.course import load_course
from grader.validate import CHECKS
from support.authoring import JUPYTEXT_HEADER, meta

DEMO = Path(__file__).resolve().parents[2]
DEMO_COURSE_TOML = DEMO / "course" / "course.toml"


TINY = JUPYTEXT_HEADER + f'''
# %% [markdown]
"""
# Tiny - doubling numbers

The smallest module that has everything a TinyTorch module has.
"""

# %% {meta("tiny-imports")}
#| default_exp core.tiny

#| export
import numpy as np

# %% {meta("tiny-double", solution=True)}
#| export
def double(x):
    """Twice x.

    TODO: return two times x.
    """
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION

# %% [markdown]
"""
### Unit Test: double
"""

# %% {meta("test-tiny-unit")}
def test_unit_double():
    """double works on a positive number."""
    assert double(3) == 6, "double(3) should be 6"

# %% [markdown]
"""
### Computational Assessment: doubling facts
"""

# %% {meta("tiny-assessment", grade=True, solution=True, points=2)}
def tiny_assessment():
    """Return a dict of facts computed with double()."""
    ### BEGIN SOLUTION
    return {{"six": double(3), "half": double(0.25)}}
    ### END SOLUTION

# %% [markdown]
"""
### Comprehensive Test (graded)
"""

# %% {meta("test-tiny-comprehensive", grade=True, locked=True, points=3)}
def test_module_tiny():
    """double on positive, negative and array inputs."""
    assert double(2) == 4, "double(2) should be 4"
    assert double(-2) == -4, "double(-2) should be -4"
    assert np.allclose(double(np.array([1.0, 2.0])), [2.0, 4.0]), "double should work on arrays"

'''

TWICE = JUPYTEXT_HEADER + f'''
# %% [markdown]
"""
# Twice - building on the framework
"""

# %% {meta("twice-imports")}
#| default_exp core.twice

#| export
from tinytorch.core.tiny import double

# %% {meta("twice-quadruple", solution=True)}
#| export
def quadruple(x):
    """Four times x, using double()."""
    ### BEGIN SOLUTION
    return double(double(x))
    ### END SOLUTION

# %% {meta("twice-assessment", grade=True, solution=True, points=1)}
def twice_assessment():
    """Return quadruple(1.5) and quadruple(2)."""
    ### BEGIN SOLUTION
    return {{"q15": quadruple(1.5), "q2": quadruple(2)}}
    ### END SOLUTION

# %% {meta("test-twice-comprehensive", grade=True, locked=True, points=2)}
def test_module_twice():
    """quadruple multiplies by four."""
    assert quadruple(3) == 12, "quadruple(3) should be 12"
'''

MODULES = {"01_tiny": ("tiny_dev.py", TINY), "02_twice": ("twice_dev.py", TWICE)}


def course_toml() -> str:
    """The demo course.toml (course, policy, assessment, late sections) with only our modules."""
    text = DEMO_COURSE_TOML.read_text(encoding="utf-8")
    head = text.split("[[modules]]", 1)[0].rstrip() + "\n"
    head = head.replace('id = "tinytorch"', 'id = "tinytest"', 1)
    modules = "".join(f'\n[[modules]]\nid = "{m}"\ntitle = "{m[3:].title()}"\n'
                      f'due = "2026-09-{14 + 7 * i}T23:59:00Z"\n'
                      # graded answer functions are scored against the reference
                      'assessments = "all"\n'
                      for i, m in enumerate(MODULES))
    return head + modules


def write_course(root: Path) -> None:
    (root / "course").mkdir(parents=True)
    (root / "course" / "course.toml").write_text(course_toml(), encoding="utf-8")
    for module_id, (name, text) in MODULES.items():
        folder = root / "source" / module_id
        folder.mkdir(parents=True)
        (folder / name).write_text(text, encoding="utf-8")


GRADER = Path(sys.executable).parent / "grader"
SCHEMA = Path(__file__).with_name("junit.xsd")


def grader(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(GRADER), "--course", str(root), *args], capture_output=True,
                          text=True, timeout=300)


@dataclass
class Run:
    returncode: int | None               # None: run in-process through the Python API
    problems: list[str]                  # FILE:LINE: module: message (the CLI's stdout lines)
    checks: dict[tuple[str, str], str]   # (module, check) -> ok | failed | skipped
    junit: etree._ElementTree
    stderr: str

    def failed(self) -> set[tuple[str, str]]:
        return {key for key, state in self.checks.items() if state == "failed"}


def load_junit_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA)))


def read_junit(path: Path) -> tuple[etree._ElementTree, dict[tuple[str, str], str]]:
    """Parse, validate against the schema, check the counts; (module, check) -> state."""
    tree = etree.parse(str(path))
    schema = load_junit_schema()
    assert schema.validate(tree), schema.error_log
    root = tree.getroot()
    assert root.tag == "testsuites"
    states = {}
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert [c.get("name") for c in cases] == list(CHECKS), "one testcase per check, in order"
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("skipped")) == len(suite.findall("testcase/skipped"))
        assert int(suite.get("errors")) == len(suite.findall("testcase/error")) == 0
        for case in cases:
            assert case.get("classname").endswith(f".{suite.get('name')}")
            state = ("failed" if case.find("failure") is not None else
                     "skipped" if case.find("skipped") is not None else "ok")
            states[(suite.get("name"), case.get("name"))] = state
    return tree, states


class TinyCourse:
    """A released copy of the tiny course; edit its sources, re-release, validate."""

    modules = MODULES

    def __init__(self, root: Path):
        self.root = root

    def source(self, module: str = "01_tiny") -> Path:
        return self.root / "source" / module / MODULES[module][0]

    def text(self, module: str = "01_tiny") -> str:
        return self.source(module).read_text(encoding="utf-8")

    def edit(self, old: str, new: str, module: str = "01_tiny") -> None:
        text = self.text(module)
        assert text.count(old) == 1, f"edit target not unique in {module}: {old!r}"
        self.source(module).write_text(text.replace(old, new), encoding="utf-8")

    def line(self, needle: str, module: str = "01_tiny") -> int:
        """1-based line of the only line containing `needle`."""
        hits = [n for n, text in enumerate(self.text(module).splitlines(), 1) if needle in text]
        assert len(hits) == 1, f"{needle!r} is on lines {hits} of {module}"
        return hits[0]

    def header(self, grade_id: str, module: str = "01_tiny") -> int:
        """Line of the `# %%` header of the cell with this grade_id."""
        return self.line(f'"grade_id": "{grade_id}"', module)

    def grader(self, *args: str) -> subprocess.CompletedProcess:
        return grader(self.root, *args)

    # Engine-heavy cases run in-process (what `grader release` / `grader validate` call):
    # every `grader` process pays a few seconds of imports before it starts an engine.

    def release(self, *modules: str) -> None:
        """What `grader release MODULES` does: write release/ with the answer shapes."""
        from grader.harness.session import answer_shapes_for
        from grader.release import release
        course = load_course(self.root)
        release(course, list(modules) or None,
                shapes_for=lambda module: answer_shapes_for(course, module))

    def validate(self, *modules: str) -> Run:
        """grader.validate.validate() plus the JUnit file `--junit` would write."""
        from grader.validate import junit_xml, validate
        course = load_course(self.root)
        outcomes = validate(course, list(modules) or [m.id for m in course.modules])
        junit = self.root / "reports" / "validate-api.xml"
        junit.parent.mkdir(parents=True, exist_ok=True)
        junit.write_text(junit_xml(course, outcomes), encoding="utf-8")
        tree, checks = read_junit(junit)
        return Run(None, [str(p) for o in outcomes for p in o.problems], checks, tree, "")

    def validate_cli(self, *modules: str) -> Run:
        """The real console script: `grader --course ROOT validate MODULES --junit FILE`."""
        junit = self.root / "reports" / "validate.xml"
        junit.unlink(missing_ok=True)
        proc = grader(self.root, "validate", *modules, "--junit", str(junit))
        tree, checks = read_junit(junit)
        return Run(proc.returncode, proc.stdout.splitlines(), checks, tree, proc.stderr)


@pytest.fixture(scope="session")
def released_template(tmp_path_factory) -> Path:
    """tiny_course written and released once (`grader release`, as an instructor would)."""
    root = tmp_path_factory.mktemp("tiny") / "course"
    write_course(root)
    proc = grader(root, "release")
    assert proc.returncode == 0, proc.stderr
    for module_id, (name, _) in MODULES.items():
        assert (root / "release" / module_id / name.replace(".py", ".ipynb")).is_file()
    return root


@pytest.fixture
def course(released_template: Path, tmp_path: Path) -> TinyCourse:
    """A fresh copy of the released course (no build/: CI starts from a checkout)."""
    root = tmp_path / "course"
    shutil.copytree(released_template, root, ignore=shutil.ignore_patterns("build"))
    return TinyCourse(root)


@pytest.fixture(scope="session")
def junit_schema() -> etree.XMLSchema:
    """tests/validate/junit.xsd: the common JUnit XML schema (see the file's header)."""
    return load_junit_schema()
