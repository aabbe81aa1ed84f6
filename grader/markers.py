"""nbgrader's region markers, and lines that look like a misspelling of one.

The canonical markers are `### BEGIN SOLUTION`, `### END SOLUTION`,
`### BEGIN HIDDEN TESTS` and `### END HIDDEN TESTS`. nbgrader (0.9) strips a region
only when a line contains `BEGIN SOLUTION` (etc.) with exactly that case and
spacing. A line that is merely close (`### BEGIN SOLUTON`, `### BEGIN HIDDEN TEST`,
lower case, two spaces) is kept as ordinary text, and so is what it was meant to
hide: the solution or the hidden tests reach the students. Other tools and older
nbgrader versions want the `### ` too, so `##BEGIN SOLUTION` counts as a near miss.
`find_marker` recognises both; lint (L005/L006/L012) and the release's own leak
check (grader/release.py) use it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Region = Literal["solution", "hidden tests"]
Edge = Literal["begin", "end"]

# canonical text -> (region, edge), in the order nbgrader documents them
MARKERS: dict[str, tuple[Region, Edge]] = {
    "### BEGIN SOLUTION": ("solution", "begin"),
    "### END SOLUTION": ("solution", "end"),
    "### BEGIN HIDDEN TESTS": ("hidden tests", "begin"),
    "### END HIDDEN TESTS": ("hidden tests", "end"),
}
# Letters only, upper case: what a near miss is compared with. START/STOP are the
# usual other words for BEGIN/END.
_LETTERS: list[tuple[str, str, str]] = [
    (word, word + region.upper().replace(" ", ""), canonical)
    for canonical, (region, edge) in MARKERS.items()
    for word in (("BEGIN", "START") if edge == "begin" else ("END", "STOP"))
]
MAX_DISTANCE = 2          # edits (insert, delete, substitute, swap two letters) still "close"
_DECORATION = re.compile(r"^[\s#*>/<!_\-=:]*")
_NOT_LETTER = re.compile(r"[^A-Za-z]+")
_PLAIN_WORDS = re.compile(r"[A-Za-z][A-Za-z _\-]*[\s*#>!\-]*")  # `BEGIN SOLUTION -->`


@dataclass(frozen=True)
class Marker:
    """A marker line: which marker it means, and whether nbgrader would recognise it."""

    canonical: str        # e.g. "### BEGIN SOLUTION"
    region: Region
    edge: Edge
    exact: bool           # the line starts with the canonical text (as nbgrader documents)


def find_marker(line: str, *, markdown: bool = False, commented: bool = False) -> Marker | None:
    """The marker `line` is, or is close to; None for an ordinary line.

    Exact means the canonical text starts the line, `line.strip().startswith(canonical)`;
    with `commented` (a markdown cell of a `.py` source, which jupytext may write as
    `# ` comment lines) the line may also be `# ` followed by it. A near miss is a
    comment line (a markdown or raw line may also have no `#`) whose words are within
    MAX_DISTANCE edits of a marker's words, ignoring case, spacing and punctuation; a
    comment may go on after the marker (nbgrader accepts `### BEGIN SOLUTION here`).
    """
    text = line.strip()
    if not text:
        return None
    candidates = [text]
    if markdown and commented and text.startswith("# "):
        candidates.append(text[2:].strip())
    for candidate in candidates:
        for canonical, (region, edge) in MARKERS.items():
            if candidate.startswith(canonical):
                return Marker(canonical, region, edge, exact=True)
    is_comment = text.startswith("#")
    if not (is_comment or markdown):
        return None
    rest = text[_DECORATION.match(text).end():]  # type: ignore[union-attr]
    if not is_comment and not _PLAIN_WORDS.fullmatch(rest):
        return None  # a markdown line of prose or code (`end_solution = 3`), not a marker
    letters = _NOT_LETTER.sub("", rest).upper()
    if not letters:
        return None
    best: tuple[int, str] | None = None
    for word, target, canonical in _LETTERS:
        if _distance(letters[:len(word)], word) > 1:
            continue  # the line must start with (nearly) BEGIN/END: `x = begin_solution()` does not
        if is_comment:
            # the marker's words at the start of the comment; whatever follows is free
            lengths = range(max(1, len(target) - MAX_DISTANCE), len(target) + MAX_DISTANCE + 1)
            distance = min(_distance(letters[:n], target) for n in lengths)
        else:
            distance = _distance(letters, target)  # a plain markdown line: the whole line
        if distance <= MAX_DISTANCE and (best is None or distance < best[0]):
            best = (distance, canonical)
    if best is None:
        return None
    region, edge = MARKERS[best[1]]
    return Marker(best[1], region, edge, exact=False)


def _distance(a: str, b: str) -> int:
    """Edit distance counting a swap of two adjacent letters as one edit (OSA)."""
    if abs(len(a) - len(b)) > MAX_DISTANCE:
        return MAX_DISTANCE + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]
