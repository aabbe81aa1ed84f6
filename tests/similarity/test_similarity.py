"""`grader similarity`: renamed copies are found, unrelated answers are not, copies of
the reference are flagged, the given code does not count, and the index spares the
N^2 comparisons."""
from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

from grader.course import load_course
from grader.similarity.compare import Student, candidate_counts, similar_pairs
from grader.similarity.fingerprints import Fingerprinted, fingerprint, normalize
from grader.similarity.run import run_similarity

GRADER = Path(sys.executable).parent / "grader"


def test_normalization_ignores_names_literals_layout_and_comments() -> None:
    a = normalize("total = 0  # sum\nfor x in xs:\n    total += x * 2\n")
    b = normalize("acc=1\n\n\nfor item in values :   # loop\n        acc   +=  item*7\n")
    assert [t.text for t in a] == [t.text for t in b]
    assert [t.text for t in normalize("y = len(x.shape)")] == ["V", "=", "len", "(", "V", ".",
                                                                 "shape", ")", ";"]
    assert normalize("if x:\n  pass\n")[-1].text == "}"


def test_renamed_copy_is_found_unrelated_is_not(stats_course: Path) -> None:
    report = run_similarity(load_course(stats_course), "01_stats", threshold=0.6).as_dict()
    assert report["students"] == 5
    assert [(p["a"], p["b"]) for p in report["pairs"]] == [("alice", "bob")]
    pair = report["pairs"][0]
    assert pair["score"] >= 0.9
    # the matching regions, side by side, in both answer cells
    regions = {r["cell"]: r for r in pair["regions"]}
    assert set(regions) == {"stats-summary", "stats-scale"}
    a_hits = [text for _, text, hit in regions["stats-summary"]["a_lines"] if hit]
    b_hits = [text for _, text, hit in regions["stats-summary"]["b_lines"] if hit]
    assert "        total += x" in a_hits and "        acc   +=   item" in b_hits
    # the given docstring line is not what matched them
    assert not any("standard deviation" in t for t in a_hits)
    # dave handed in the reference itself; alice's own solution is not flagged
    assert report["reference"] == [{"student": "dave", "score": 1.0, "exact": True,
                                    "identical_cells": ["stats-summary", "stats-scale"]}]
    # with no threshold, carol's unrelated answers are far below alice's copy
    everything = run_similarity(load_course(stats_course), "01_stats", threshold=0.0).as_dict()
    scores = {(p["a"], p["b"]): p["score"] for p in everything["pairs"]}
    assert scores[("alice", "carol")] < 0.2 and scores[("bob", "carol")] < 0.2
    # erin's untouched release is nothing but given code: no fingerprint of hers is left
    assert not any("erin" in key for key in scores)


def test_command_writes_the_page_and_changes_no_grade(stats_course: Path) -> None:
    before = sorted(p.relative_to(stats_course) for p in stats_course.rglob("*"))
    proc = subprocess.run([str(GRADER), "--course", str(stats_course), "similarity", "01_stats",
                           "--threshold", "0.5", "--json"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert [(p["a"], p["b"]) for p in data["pairs"]] == [("alice", "bob")]
    assert "dave: exact copy of the reference (100%)" in proc.stderr
    page = stats_course / "reports" / "similarity" / "01_stats.html"
    after = sorted(p.relative_to(stats_course) for p in stats_course.rglob("*"))
    assert set(after) - set(before) == {Path("reports"), Path("reports/similarity"),
                                        page.relative_to(stats_course),
                                        page.with_suffix(".json").relative_to(stats_course)}
    html = page.read_text(encoding="utf-8")
    assert "Alice A" in html and "<mark>        acc   +=   item</mark>" in html


def test_five_hundred_students_are_indexed_not_compared_pairwise() -> None:
    rng = random.Random(1)
    words = ["if", "for", "V", "=", "+", "(", ")", ":", ";", "{", "}", "N", "return", "*"]
    students = []
    for n in range(500):
        text = " ".join(rng.choice(words) for _ in range(300))
        fp = fingerprint([t for t in _tokens(text)])
        students.append(Student(f"s{n:03}", {"c": text}, fp, set(fp.prints)))
    students.append(Student("copy", {"c": ""}, students[7].fp, set(students[7].prints)))
    started = time.perf_counter()
    counts, _ = candidate_counts(students, max_share=0.5)
    pairs = similar_pairs(students, threshold=0.6)
    assert time.perf_counter() - started < 10
    # only pairs that share a fingerprint are ever scored: far fewer than 501*500/2
    assert len(counts) < 501 * 500 / 2 / 10
    assert [(p.a, p.b) for p in pairs] == [("copy", "s007")]


def _tokens(text: str):
    from grader.similarity.fingerprints import Token
    return [Token(word, "c", 1) for word in text.split()]


def test_assignment_of_two_notebooks(tmp_path: Path) -> None:
    """An nbgrader assignment of several notebooks: answers of every notebook count, named
    NOTEBOOK/GRADE_ID, and a student's copy in one notebook is found."""
    from grader.module import load_notebooks
    from grader.release import build_release
    from grader.synth import solved, write_submission
    from support.authoring import JUPYTEXT_HEADER
    from support.stats_course import ALICE, BOB, CAROL, STATS, write_stats_course

    root = write_stats_course(tmp_path / "course")
    cells = STATS[len(JUPYTEXT_HEADER):].split("\n# %% ")
    imports, summary, scale = (c for c in cells if "stats-imports" in c or "stats-summary" in c
                               or "stats-scale" in c)
    folder = root / "source" / "02_pair"
    folder.mkdir()
    (folder / "one_dev.py").write_text(JUPYTEXT_HEADER + "\n# %% " + imports + "\n# %% " + summary)
    (folder / "two_dev.py").write_text(JUPYTEXT_HEADER + "\n# %% " + imports + "\n# %% " + scale)
    toml = root / "course" / "course.toml"
    toml.write_text(toml.read_text() + '\n[[modules]]\nid = "02_pair"\ntitle = "Pair"\n')
    course = load_course(root)
    for student, answers in (("alice", ALICE), ("bob", BOB), ("carol", CAROL)):
        for module in load_notebooks(root, "02_pair"):
            nb = solved(module, build_release(course, module))
            for cell in nb.cells:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if grade_id in answers:
                    cell.source = answers[grade_id]
            write_submission(root, student, "02_pair", nb, name=module.notebook_name)
    report = run_similarity(course, "02_pair", threshold=0.6).as_dict()
    assert report["answer_cells"] == ["one_dev/stats-summary", "two_dev/stats-scale"]
    assert [(p["a"], p["b"]) for p in report["pairs"]] == [("alice", "bob")]
    assert {r["cell"] for r in report["pairs"][0]["regions"]} == set(report["answer_cells"])
