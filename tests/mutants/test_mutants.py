"""`grader mutants`: mutants of the solution regions graded with the real harness and
engine; which of them still earn full marks, per item; `grader validate --mutants`."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from grader.course import load_course
from grader.errors import ConfigError
from grader.module import load_module
from grader.mutants.generate import generate, sample, solution_regions
from grader.mutants.run import run_mutants
from grader.validate import mutants_skip

from support.scale_course import GRADER, line_of, write_scale_course

SOURCE = "source/01_scale/scale_dev.py"


@pytest.fixture(scope="module")
def scale_run(tmp_path_factory) -> tuple[Path, dict]:
    root = write_scale_course(tmp_path_factory.mktemp("scale") / "course")
    report = run_mutants(load_course(root), "01_scale", max_mutants=None, workers=2,
                         timeout_s=2)
    return root, report.as_dict()


def test_mutants_stay_inside_the_solution_regions(scale_course: Path) -> None:
    module = load_module(scale_course, "01_scale")
    mutants = generate(module)
    text = (scale_course / SOURCE).read_text(encoding="utf-8").splitlines()
    begins = [n for n, l in enumerate(text, 1) if "### BEGIN SOLUTION" in l]
    ends = [n for n, l in enumerate(text, 1) if "### END SOLUTION" in l]
    inside = {n for b, e in zip(begins, ends) for n in range(b + 1, e)}
    assert mutants and {m.line for m in mutants} <= inside
    assert solution_regions("x\n### BEGIN SOLUTION\na\nb\n### END SOLUTION\n") == [(3, 4)]
    ret = line_of(scale_course, "return 2 * x")
    edits = {(m.kind, m.after) for m in mutants if m.line == ret}
    assert edits == {("return-constant", "return 0"), ("arithmetic", "return 2 / x"),
                     ("constant", "return 3 * x"), ("delete-statement", "pass")}
    assert {m.kind for m in mutants} >= {"assign-constant", "comparison", "constant"}
    # the locked test and the docstring are never touched; ids are stable FILE positions
    assert not any(m.cell_key == "test-scale-weak" for m in mutants)
    assert [m.id for m in generate(module)] == [m.id for m in mutants]


def test_a_limited_run_is_deterministic_and_spread_over_functions(scale_course: Path) -> None:
    mutants = generate(load_module(scale_course, "01_scale"))
    picked = sample(mutants, 3, seed=7)
    assert [m.id for m in picked] == [m.id for m in sample(mutants, 3, seed=7)]
    # one per (cell, function) first, and a function's constant answer leads
    assert len({(m.cell_key, m.function) for m in picked}) == 3
    assert any(m.kind == "return-constant" and m.cell_key == "scale-double" for m in picked)
    assert len({tuple(m.id for m in sample(mutants, 8, seed=s)) for s in range(6)}) > 1
    assert sample(mutants, None, seed=0) == mutants


def test_weak_test_survivors_errors_and_timeouts(scale_run) -> None:
    root, report = scale_run
    items = {i["id"]: i for i in report["items"]}
    weak, facts = items["test-scale-weak"], items["scale-facts"]
    ret = line_of(root, "return 2 * x")
    survivors = {(m["where"], m["diff"]) for m in weak["survivors"]}
    assert (f"{SOURCE}:{ret}", "- return 2 * x  + return 0") in survivors
    assert (f"{SOURCE}:{ret}", "- return 2 * x  + return 3 * x") in survivors
    by_diff = {m["diff"]: m for m in report["mutants"]}
    # `2 / x` makes double(0) divide by zero: the test fails
    assert by_diff["- return 2 * x  + return 2 / x"]["killed_by"] == ["test-scale-weak"]
    # a mutant whose own cell fails to run counts as killed, though the test still passes
    broken = by_diff["- STEPS = [1, 2]  + STEPS = 0"]
    assert broken["status"] == "killed" and broken["failure"] == "error"
    assert broken["scores"]["test-scale-weak"] == 3
    # ... and so does one that never ends (the loop's counter goes down)
    assert by_diff["- n += 1  + n -= 1"]["failure"] == "timeout"
    assert by_diff["- n += 1  + n -= 1"]["status"] == "killed"
    # a mutant of the assessment's answer is that item's alone; its check kills all 4
    assert facts["mutants"] == 4 and facts["killed"] == 4 and facts["survivors"] == []
    assert weak["mutants"] == report["graded"] - 4
    assert weak["killed"] == weak["mutants"] - len(weak["survivors"])
    assert weak["score"] == pytest.approx(weak["killed"] / weak["mutants"], abs=1e-4)
    assert 0.2 < weak["score"] < 0.7


def test_validate_mutants_fails_below_min_score(tmp_path: Path) -> None:
    root = write_scale_course(tmp_path / "course",
                              extra_toml="\n[mutants]\nmin_score = 0.75\ntimeout_s = 2\n")
    proc = subprocess.run([str(GRADER), "--course", str(root), "validate", "01_scale",
                           "--mutants"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert re.search(r"01_scale\s+mutants\s+FAILED", proc.stderr)
    # one problem: the assessment kills every mutant of its own cell
    [text] = [line for line in proc.stdout.splitlines() if "[mutants]" in line]
    assert text.startswith(f"{SOURCE}:{line_of(root, 'test-scale-weak')}: 01_scale: "
                           "'test-scale-weak' kills ")
    assert "below [mutants] min_score 75%" in text and " survives: - " in text
    # without a threshold the check is skipped
    (root / "course" / "course.toml").write_text(
        (root / "course" / "course.toml").read_text().replace("min_score = 0.75", "max = 5"))
    assert mutants_skip(load_course(root)) == "course.toml sets no [mutants] min_score"


def test_mutants_section_is_checked(tmp_path: Path) -> None:
    root = write_scale_course(tmp_path / "a", extra_toml="\n[mutants]\nmin_score = 1.5\n")
    with pytest.raises(ConfigError, match=r"course.toml:\d+.*min_score = 1.5 is out of range"):
        load_course(root)
    root = write_scale_course(tmp_path / "b", extra_toml="\n[mutants]\nmin_scor = 0.5\n")
    with pytest.raises(ConfigError, match="did you mean 'min_score'"):
        load_course(root)


def test_training_always_zero_mse_survives_the_comprehensive_test(demo_copy: Path) -> None:
    """The issue's case: MeanSquaredError returning 0 still earns all 25 points."""
    module = load_module(demo_copy, "09_training")
    [zero] = [m for m in generate(module) if m.function == "MeanSquaredError.__call__"
              and m.kind == "return-constant"]
    proc = subprocess.run([str(GRADER), "--course", str(demo_copy), "mutants", "09_training",
                           "--max", "2", "--mutant", zero.id, "--workers", "2", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["graded"] == 2 and report["generated"] > 500
    assert zero.id in [m["id"] for m in report["mutants"]]
    comprehensive = next(i for i in report["items"] if i["id"] == "test-training-comprehensive")
    where = f"source/09_training/training_dev.py:{zero.line}"
    assert {"where": where, "diff": "- return loss  + return 0"} in [
        {"where": m["where"], "diff": m["diff"]} for m in comprehensive["survivors"]]
    assert "test-training-comprehensive" in proc.stderr and "mutation score" in proc.stderr
    assert f"{where}: survives test-training-comprehensive: - return loss  + return 0" \
        in proc.stderr
    page = demo_copy / "reports" / "mutants" / "09_training.html"
    assert page.is_file() and "return 0" in page.read_text(encoding="utf-8")
    assert json.loads(page.with_suffix(".json").read_text())["mutants"] == report["mutants"]


def test_same_seed_same_report_whatever_the_workers(scale_run) -> None:
    """A limited run on one worker picks the same mutants as the sample says and judges
    each as the two-worker full run did; the order is the mutants', not the workers'."""
    root, full = scale_run
    module = load_module(root, "01_scale")
    one = run_mutants(load_course(root), "01_scale", max_mutants=6, workers=1, seed=3,
                      timeout_s=2).as_dict()
    assert [m["id"] for m in one["mutants"]] == [m.id for m in sample(generate(module), 6, 3)]
    before = {m["id"]: (m["status"], m["killed_by"], m["failure"]) for m in full["mutants"]}
    assert {m["id"]: (m["status"], m["killed_by"], m["failure"]) for m in one["mutants"]} == {
        i: before[i] for i in (m["id"] for m in one["mutants"])}
    order = [m["id"] for m in full["mutants"]]
    assert order == [m.id for m in generate(module)]
