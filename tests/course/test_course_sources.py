"""The TinyTorch demo course's sources keep their contract.

They check the authoring format (nbgrader metadata, markers, export directives), that
module 09 is still the supplied file, and, end to end, that every module runs, as a
script and in a real Jupyter kernel (nbclient), against the framework `grader build`
builds from the modules before it. (That the release earns zero on every item is
`grader validate`'s stub check, run by `make test` on the whole course.)
"""

from __future__ import annotations

import ast
import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

COURSE = Path(__file__).resolve().parents[2]
SOURCE = COURSE / "source"
MODULES = {
    "01_tensor": ("tensor", "core.tensor"),
    "02_activations": ("activations", "core.activations"),
    "03_layers": ("layers", "core.layers"),
    "04_networks": ("networks", "core.networks"),
    "05_autograd": ("autograd", "core.autograd"),
    "06_spatial": ("spatial", "core.spatial"),
    "07_optimizers": ("optimizers", "core.optimizers"),
    "08_dataloader": ("dataloader", "utils.data"),
    "09_training": ("training", "core.training"),
}
TRAINING_SHA256 = "b9028e808e624911d3f70ee92672850914245c411ccec5e12c17c3b5a28b9da7"
NBGRADER_KEYS = {"grade", "grade_id", "locked", "schema_version", "solution", "task"}
DIRECTIVE = re.compile(r"^#\|\s*(export|default_exp)\b")


def source_file(module: str) -> Path:
    (path,) = (SOURCE / module).glob("*_dev.py")
    return path


def code_cells(path: Path) -> list:
    return [c for c in jupytext.read(path).cells if c.cell_type == "code"]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    from grader.course import load_course
    root = tmp_path_factory.mktemp("course")
    for name in ("course", "source"):
        shutil.copytree(COURSE / name, root / name)
    return load_course(root)


@pytest.fixture
def framework(course, module) -> Path:
    """The stage build `grader build` makes for grading `module`: modules before it."""
    from grader.export import build
    return build(course, before=module).path


def test_training_module_is_the_supplied_file():
    data = source_file("09_training").read_bytes()
    assert hashlib.sha256(data).hexdigest() == TRAINING_SHA256
    notice = (SOURCE / "09_training" / "NOTICE").read_text()
    assert "a4b80615" in notice and "MIT" in notice and TRAINING_SHA256 in notice


@pytest.mark.parametrize("module", [m for m in MODULES if m != "09_training"])
def test_reference_module_authoring_format(module):
    name, default_exp = MODULES[module]
    path = source_file(module)
    cells = jupytext.read(path).cells
    code = [c for c in cells if c.cell_type == "code"]
    assert code[0].source.splitlines()[0] == f"#| default_exp {default_exp}"
    if module == "01_tensor":
        assert "from tinytorch.core.tensor" not in path.read_text()
    ids = []
    comprehensive = []
    for cell in cells:
        meta = cell.metadata.get("nbgrader")
        if meta is None:
            assert cell.cell_type == "markdown", f"{path.name}: code cell without nbgrader metadata"
            continue
        assert NBGRADER_KEYS <= set(meta), f"{path.name}: {meta}"
        ids.append(meta["grade_id"])
        if meta["grade"]:
            assert meta.get("points", 0) > 0
        if "### BEGIN SOLUTION" in cell.source:
            assert meta["solution"], f"{meta['grade_id']}: solution marker outside a solution cell"
        if "### BEGIN HIDDEN TESTS" in cell.source:
            assert meta["grade"] and not meta["solution"]
        if meta["grade"] and not meta["solution"]:
            comprehensive.append((meta, cell.source))
    assert len(ids) == len(set(ids)), f"{path.name}: duplicate grade_id"
    ((meta, src),) = comprehensive
    assert meta["grade_id"] == f"test-{name}-comprehensive" and meta["locked"]
    tree = ast.parse(src)
    assert [type(n).__name__ for n in tree.body] == ["FunctionDef"]
    assert tree.body[0].name == f"test_module_{name}"


@pytest.mark.parametrize("module", list(MODULES))
def test_module_runs_against_the_framework(module, framework, tmp_path):
    result = subprocess.run([sys.executable, str(source_file(module))], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300, env={"PYTHONPATH": str(framework), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]


@pytest.mark.parametrize("module", list(MODULES))
def test_module_runs_in_a_jupyter_kernel_without_error_output(module, framework, tmp_path,
                                                              monkeypatch):
    from nbclient import NotebookClient
    nb = jupytext.read(source_file(module))
    monkeypatch.setenv("PYTHONPATH", str(framework))
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [(i, o.get("ename"), o.get("evalue")) for i, c in enumerate(nb.cells)
              if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors, errors
