"""`grader similarity MODULE`: pairs of students whose answer code is alike.

Stages: find submitted/STUDENT/MODULE notebooks -> take the answer cells (the source's
solution code cells, by grade_id) -> normalize and fingerprint (fingerprints.py) -> drop
the fingerprints of the release's given code -> index and score pairs (compare.py) ->
compare each student with the reference solution -> page reports/similarity/MODULE.html.
It reads submissions only: no grade, result or gradebook row changes.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import nbformat

from grader.autograde.discover import discover
from grader.course import Course
from grader.harness.grade import locate, read_submission
from grader.module import Module, load_notebooks
from grader.release import build_release
from grader.similarity.compare import MIN_PRINTS, Pair, Student, similar_pairs
from grader.similarity.fingerprints import fingerprint, kgram_hashes, normalize

DEFAULT_THRESHOLD = 0.6
REFERENCE = "(reference)"
MIN_REFERENCE_TOKENS = 15   # an answer shorter than this is not called a copy when equal


@dataclass
class ReferenceMatch:
    student: str
    score: float
    identical_cells: list[str]
    exact: bool          # every non-trivial answer cell is the reference's, token for token


@dataclass
class SimilarityReport:
    module: str
    threshold: float
    students: int
    skipped: dict[str, str]
    pairs: list[Pair]
    reference: list[ReferenceMatch]
    duration_s: float = 0.0
    cells: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"module": self.module, "threshold": self.threshold, "students": self.students,
                "answer_cells": self.cells, "skipped": self.skipped,
                "pairs": [asdict(p) for p in self.pairs],
                "reference": [asdict(r) for r in self.reference],
                "duration_s": round(self.duration_s, 2)}


def answer_cells(module: Module) -> list[str]:
    return [c.key for c in module.source.cells
            if c.cell.cell_type == "code" and c.nbgrader.get("solution") and c.grade_id]


def answers_of(nb, ids: list[str]) -> dict[str, str]:
    """grade_id -> text of the notebook's answer cells (the first cell per id)."""
    found: dict[str, str] = {}
    for cell in nb.cells:
        grade_id = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        if cell.get("cell_type") == "code" and grade_id in ids and grade_id not in found:
            source = cell.get("source", "")
            found[grade_id] = "".join(source) if isinstance(source, list) else str(source)
    return {i: found[i] for i in ids if i in found}


def student_of(student_id: str, texts: dict[str, str], base: set[int]) -> Student:
    tokens = [t for cell, text in texts.items() for t in normalize(text, cell)]
    fp = fingerprint(tokens)
    return Student(student_id, texts, fp, set(fp.prints) - base)


def released(course: Course, module: Module):
    """The committed release of one notebook, else the one `grader release` would write."""
    path = course.release_dir / module.id / module.notebook_name
    return (nbformat.read(path, as_version=4) if path.is_file()
            else build_release(course, module))


def given_code(course: Course, module: Module) -> tuple[set[int], dict[str, set[str]]]:
    """Every k-gram of the release's code cells (what students were given), and the
    given lines of each answer cell (never marked as a match)."""
    base: set[int] = set()
    lines: dict[str, set[str]] = {}
    for index, cell in enumerate(released(course, module).cells):
        if cell.get("cell_type") == "code":
            base |= kgram_hashes(normalize(cell.source, f"release-{index}"))
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if grade_id:
                lines[grade_id] = {l.strip() for l in cell.source.splitlines() if l.strip()}
    return base, lines


def _solution_tokens(module: Module, cell_id: str) -> int:
    from grader.mutants.generate import solution_regions
    text = module.source.cells[[c.key for c in module.source.cells].index(cell_id)].source
    lines = text.splitlines()
    inside = "\n".join(lines[a - 1] for first, last in solution_regions(text)
                       for a in range(first, last + 1))
    return len(normalize(inside))


def reference_matches(students: list[Student], reference: Student, nontrivial: list[str],
                      threshold: float) -> list[ReferenceMatch]:
    """Students whose answers are the reference's: every non-trivial answer cell equal
    token for token (exact), or a fingerprint score at the threshold."""
    ref_tokens = {c: [t.text for t in normalize(reference.texts[c], c)]
                  for c in nontrivial if c in reference.texts}
    found = []
    for s in students:
        identical = [c for c in ref_tokens if c in s.texts and
                     [t.text for t in normalize(s.texts[c], c)] == ref_tokens[c]]
        size = min(len(s.prints), len(reference.prints))
        score = len(s.prints & reference.prints) / size if size >= MIN_PRINTS else 0.0
        exact = bool(ref_tokens) and len(identical) == len(ref_tokens)
        if exact or score >= threshold:
            found.append(ReferenceMatch(s.id, round(score, 4), identical, exact))
    return sorted(found, key=lambda r: (not r.exact, -r.score, r.student))


def run_similarity(course: Course, module_id: str, *,
                   threshold: float = DEFAULT_THRESHOLD) -> SimilarityReport:
    """Compare the submissions of `module_id`. In a module of several notebooks (an
    nbgrader assignment) an answer cell is named NOTEBOOK_STEM/GRADE_ID."""
    started = time.perf_counter()
    notebooks = load_notebooks(course.root, module_id)
    many = len(notebooks) > 1

    def named(module: Module, texts: dict[str, str]) -> dict[str, str]:
        return {(f"{module.stem}/{k}" if many else k): v for k, v in texts.items()}

    base: set[int] = set()
    given: dict[str, set[str]] = {}
    ids: dict[str, list[str]] = {}            # notebook name -> its answer cells
    reference_texts: dict[str, str] = {}
    nontrivial: list[str] = []
    for module in notebooks:
        ids[module.notebook_name] = answer_cells(module)
        hashes, lines = given_code(course, module)
        base |= hashes
        given.update(named(module, lines))
        answers = answers_of(module.source.notebook, ids[module.notebook_name])
        reference_texts.update(named(module, answers))
        nontrivial += list(named(module, {c: "" for c in answers
                                          if _solution_tokens(module, c) >= MIN_REFERENCE_TOKENS}))
    students, skipped = [], {}
    for submission in discover(course, module_id):
        texts: dict[str, str] = {}
        problems = []
        for module in notebooks:
            if many:
                path = submission.folder / module.notebook_name
                path = path if path.is_file() else None
            else:
                path, _ = locate(submission.folder, module.notebook_name)
            if path is None:
                problems.append(f"no {module.notebook_name}")
                continue
            try:
                nb = read_submission(path)
            except (ValueError, OSError) as exc:
                problems.append(f"{path.name} unreadable: {exc}")
                continue
            texts.update(named(module, answers_of(nb, ids[module.notebook_name])))
        if not texts:
            skipped[submission.student] = "; ".join(problems) or "no answer cells"
            continue
        students.append(student_of(submission.student, texts, base))
    reference = student_of(REFERENCE, reference_texts, base)
    report = SimilarityReport(
        module_id, threshold, len(students), skipped,
        similar_pairs(students, threshold=threshold, given=given),
        reference_matches(students, reference, nontrivial, threshold),
        cells=list(reference_texts))
    report.duration_s = time.perf_counter() - started
    return report
