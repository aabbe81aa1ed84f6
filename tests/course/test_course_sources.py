"""The TinyTorch demo course's sources keep their contract.

These tests look only at `source/` and do not use the `grader` package, so they keep
working while it changes. They check the authoring format (nbgrader metadata, markers,
export directives), that module 09 is still the supplied file, and, end to end, that the
framework exported from 01-08 runs every module (09 included) and that replacing the
solutions by stubs makes every graded item fail.

The exporter here is deliberately minimal (cells whose first line is `#| export`, plus the
`#| default_exp` cell); `grader export` is the real one.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
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


def export_framework(target: Path) -> None:
    """Write the `#| export` cells of every module to target/tinytorch/..."""
    for module, (_, default_exp) in MODULES.items():
        chunks = []
        for cell in code_cells(source_file(module)):
            lines = [line for line in cell.source.splitlines() if line.strip()]
            if not lines or not DIRECTIVE.match(lines[0]):
                continue
            if lines[0].startswith("#| default_exp") and not any(l.startswith("#| export") for l in lines):
                continue
            chunks.append("\n".join(l for l in cell.source.splitlines() if not DIRECTIVE.match(l)))
        *packages, name = ["tinytorch", *default_exp.split(".")]
        folder = target.joinpath(*packages)
        folder.mkdir(parents=True, exist_ok=True)
        for depth in range(1, len(packages) + 1):
            target.joinpath(*packages[:depth], "__init__.py").touch()
        (folder / f"{name}.py").write_text("\n\n\n".join(chunks) + "\n")


def stub_solutions(text: str) -> str:
    """What the release does: solution regions become `raise NotImplementedError()`, hidden tests go."""
    out, skipping = [], None
    for line in text.splitlines():
        marker = line.strip()
        if marker in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
            skipping = marker.replace("BEGIN", "END")
            if "SOLUTION" in marker:
                out.append(line[: len(line) - len(line.lstrip())] + "raise NotImplementedError()")
        elif skipping and marker == skipping:
            skipping = None
        elif not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def framework(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("framework")
    export_framework(root)
    return root


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


RUN_STUB = r"""
import io, json, sys, contextlib, jupytext
ns = {"__name__": "__main__"}
for cell in jupytext.read(sys.argv[1]).cells:
    if cell.cell_type == "code":
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(cell.source, "<cell>", "exec"), ns)
        except Exception:
            pass
outcome = {}
for name in json.loads(sys.argv[2]):
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            ns[name]()
        outcome[name] = "returned"
    except Exception as exc:
        outcome[name] = type(exc).__name__
print(json.dumps(outcome))
"""


@pytest.mark.parametrize("module", list(MODULES))
def test_stubbed_module_fails_every_graded_item(module, framework, tmp_path):
    name, _ = MODULES[module]
    path = source_file(module)
    graded = [f"test_module_{name}"]
    for cell in code_cells(path):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and meta.get("solution"):
            graded.append(re.search(r"^def (\w+)\(", cell.source, re.M).group(1))
    stub = tmp_path / path.name
    stub.write_text(stub_solutions(path.read_text()))
    runner = tmp_path / "run_stub.py"
    runner.write_text(RUN_STUB)
    result = subprocess.run([sys.executable, str(runner), str(stub), json.dumps(graded)], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300,
                            env={"PYTHONPATH": str(framework), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert all(v != "returned" for v in outcome.values()), outcome
