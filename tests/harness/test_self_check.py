"""`grader check`: a student's self-check, through the real console script."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat

from grader.synth import edit, replace

GRADER = Path(sys.executable).parent / "grader"


def check(notebook: Path, *args: str, cwd: Path, env: dict | None = None
          ) -> subprocess.CompletedProcess:
    return subprocess.run([str(GRADER), "check", str(notebook), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def test_complete_notebook_passes_and_exits_0(course, complete, tmp_path):
    path = tmp_path / "training_dev.ipynb"
    nbformat.write(complete, path)
    proc = check(path, cwd=course.root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "test-training-comprehensive" in proc.stdout
    assert "passed" in proc.stdout and "answered" in proc.stdout
    assert "visible tests: 25 / 25 points" in proc.stdout


def test_untouched_release_exits_1_with_readable_output(course, release, tmp_path):
    path = tmp_path / "training_dev.ipynb"
    nbformat.write(release, path)
    proc = check(path, cwd=course.root, env={"COLUMNS": "80"})
    assert proc.returncode == 1
    assert "visible tests: 0 / 25 points" in proc.stdout
    lines = proc.stdout.splitlines()
    # 80 columns: every line fits, and each message is wrapped whole under its item
    assert max(map(len, lines)) <= 80, proc.stdout
    head = next(n for n, line in enumerate(lines) if "test-training-comprehensive" in line)
    assert lines[head].split()[:4] == ["error", "0", "/", "25"], lines[head]
    message = []
    for line in lines[head + 1:]:
        if not line.startswith("      "):
            break
        message.append(line.strip())
    text = " ".join(message)
    assert text.startswith("NotImplementedError (not written yet"), proc.stdout
    assert "line" in text and "checked by test_module_training" in text
    assert len(message) >= 2                       # wrapped, not cut or squeezed


def test_json_has_no_reference_values_or_hidden_tests(course, complete, tmp_path):
    nb = edit(complete, "training-batch-size", replace(
        "activation_per_sample = 10 * 1000 * 4", "activation_per_sample = 10 * 1000 * 8"))
    path = tmp_path / "training_dev.ipynb"
    nbformat.write(nb, path)
    # Outside the course: only the notebook and the installed package (framework on the path).
    from grader.export import build
    stage = build(course, before="09_training")     # stands in for `pip install tinytorch`
    env_dir = tmp_path / "elsewhere"
    env_dir.mkdir()
    proc = subprocess.run([str(GRADER), "--course", str(env_dir), "check", str(path), "--json"],
                          capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(stage.path),
                               "PATH": "/usr/bin:/bin"})
    record = json.loads(proc.stdout)
    assert proc.returncode == 0, [(i["id"], i["message"]) for i in record["items"]] + \
        record["unit_tests"]
    batch = next(i for i in record["items"] if i["id"] == "training-batch-size")
    assert batch["status"] == "answered"          # right shape; the wrong value is not revealed
    text = proc.stdout
    assert "171598" not in text, text
    assert '"expected"' not in text


def test_wrong_shape_is_reported(course, complete, tmp_path):
    nb = edit(complete, "training-convergence", replace(
        "        'recommended_loss': 'CrossEntropy',\n", ""))
    path = tmp_path / "training_dev.ipynb"
    nbformat.write(nb, path)
    record = json.loads(check(path, "--json", cwd=course.root).stdout)
    convergence = next(i for i in record["items"] if i["id"] == "training-convergence")
    assert convergence["status"] == "failed"
    assert "recommended_loss" in convergence["message"]
