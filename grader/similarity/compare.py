"""Which pairs of submissions share code, without comparing every pair.

Every submission's fingerprints (minus those of the release's given code, and minus
those so common that more than `max_share` of the class has them) go into one index:
fingerprint -> students. Only pairs that meet in some posting list are candidates, and
a pair's score is counted from the postings alone, so 500 students cost the size of the
index, not 124,750 text comparisons. Only pairs above the threshold get the line-level
detail (which lines of which answer cell match).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from itertools import combinations

from grader.similarity.fingerprints import Fingerprinted, Token

MIN_PRINTS = 3           # fewer fingerprints than this: too little code to judge


@dataclass
class Student:
    id: str
    texts: dict[str, str]              # answer cell grade_id -> the student's code
    fp: Fingerprinted
    prints: set[int] = field(default_factory=set)    # after the base and common are removed


@dataclass
class Region:
    cell: str
    a_lines: list[tuple[int, str, bool]]   # (line, text, matched)
    b_lines: list[tuple[int, str, bool]]


@dataclass
class Pair:
    a: str
    b: str
    shared: int
    score: float         # shared / the smaller fingerprint set
    a_in_b: float        # share of a's fingerprints found in b
    b_in_a: float
    regions: list[Region] = field(default_factory=list)


def candidate_counts(students: list[Student], *, max_share: float
                     ) -> tuple[Counter[tuple[str, str]], set[int]]:
    """(pair -> shared fingerprints, the fingerprints ignored as common)."""
    index: dict[int, list[str]] = {}
    for student in students:
        for h in student.prints:
            index.setdefault(h, []).append(student.id)
    limit = max(3, int(max_share * len(students)))
    common = {h for h, ids in index.items() if len(ids) > limit}
    counts: Counter[tuple[str, str]] = Counter()
    for h, ids in index.items():
        if h not in common and len(ids) > 1:
            counts.update(combinations(sorted(ids), 2))
    return counts, common


def side_by_side(a: Student, b: Student, shared: set[int],
                 given: dict[str, set[str]] | None = None) -> list[Region]:
    """Each answer cell both matched in, its lines marked where shared k-grams cover
    them (a line of the release's given code is never marked)."""
    a_cover, b_cover = a.fp.lines(shared), b.fp.lines(shared)
    given = given or {}
    regions = []
    for cell in a.texts:
        if cell not in a_cover or cell not in b_cover:
            continue
        regions.append(Region(cell, _numbered(a.texts[cell], a_cover[cell], given.get(cell)),
                              _numbered(b.texts.get(cell, ""), b_cover[cell], given.get(cell))))
    return regions


def _numbered(text: str, matched: set[int], given: set[str] | None
              ) -> list[tuple[int, str, bool]]:
    given = given or set()
    return [(n, line, n in matched and line.strip() not in given and bool(line.strip()))
            for n, line in enumerate(text.splitlines(), start=1)]


def similar_pairs(students: list[Student], *, threshold: float, max_share: float = 0.5,
                  given: dict[str, set[str]] | None = None) -> list[Pair]:
    """Pairs whose score reaches `threshold`, best first (ties by ids)."""
    by_id = {s.id: s for s in students}
    counts, common = candidate_counts(students, max_share=max_share)
    pairs = []
    for (a_id, b_id), shared in counts.items():
        a, b = by_id[a_id], by_id[b_id]
        a_n, b_n = len(a.prints - common), len(b.prints - common)
        if min(a_n, b_n) < MIN_PRINTS:
            continue
        score = shared / min(a_n, b_n)
        if score < threshold:
            continue
        both = (a.prints & b.prints) - common
        pairs.append(Pair(a_id, b_id, shared, round(score, 4), round(shared / a_n, 4),
                          round(shared / b_n, 4), side_by_side(a, b, both, given)))
    return sorted(pairs, key=lambda p: (-p.score, p.a, p.b))


def same_tokens(a: list[Token], b: list[Token]) -> bool:
    return [t.text for t in a] == [t.text for t in b]
