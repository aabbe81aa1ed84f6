"""A one-module course (`01_stats`, two answer cells) and five students' submissions made
from its release with grader.synth: alice's own solution, bob's copy of it with every
name changed and new comments and layout, carol's unrelated solution, dave's exact copy
of the reference, and erin's untouched release."""
from __future__ import annotations

from pathlib import Path

from grader.course import load_course
from grader.synth import release_of, solved, write_submission
from support.authoring import JUPYTEXT_HEADER, meta


STATS = JUPYTEXT_HEADER + f'''
# %% {meta("stats-imports")}
import math

# %% {meta("stats-summary", solution=True)}
def summary(values):
    """The mean and the standard deviation of a list of numbers, as a tuple."""
    ### BEGIN SOLUTION
    count = len(values)
    if count == 0:
        raise ValueError("no values")
    mean = sum(values) / count
    variance = sum((v - mean) ** 2 for v in values) / count
    return mean, math.sqrt(variance)
    ### END SOLUTION

# %% {meta("stats-scale", solution=True)}
def rescale(values, low=0.0, high=1.0):
    """The values mapped linearly onto [low, high]."""
    ### BEGIN SOLUTION
    smallest, largest = min(values), max(values)
    if largest == smallest:
        return [low for _ in values]
    width = (high - low) / (largest - smallest)
    return [low + (v - smallest) * width for v in values]
    ### END SOLUTION

# %% {meta("test-stats", grade=True, locked=True, points=4)}
def test_stats():
    assert summary([1.0, 3.0]) == (2.0, 1.0)
    assert rescale([1.0, 2.0, 3.0]) == [0.0, 0.5, 1.0]
'''

ALICE = {
    "stats-summary": '''def summary(values):
    """The mean and the standard deviation of a list of numbers, as a tuple."""
    # add up by hand
    total = 0.0
    n = 0
    for x in values:
        total += x
        n += 1
    if n < 1:
        raise ValueError("empty list")
    avg = total / n
    squares = 0.0
    for x in values:
        squares += (x - avg) * (x - avg)
    std = (squares / n) ** 0.5
    return avg, std
''',
    "stats-scale": '''def rescale(values, low=0.0, high=1.0):
    """The values mapped linearly onto [low, high]."""
    lo = values[0]
    hi = values[0]
    for x in values:
        if x < lo:
            lo = x
        if x > hi:
            hi = x
    out = []
    for x in values:
        if hi == lo:
            out.append(low)
        else:
            out.append(low + (high - low) * (x - lo) / (hi - lo))
    return out
''',
}

# alice's code: every name changed, other comments, other spacing and numbers
BOB = {
    "stats-summary": '''def summary(values):
    """The mean and the standard deviation of a list of numbers, as a tuple."""
    acc = 0    # running sum
    k = 0
    for item in values:
        acc   +=   item
        k += 1


    if k < 1:
        raise ValueError('nothing to summarise')
    m = acc / k
    sq = 0
    for item in values:
        sq += (item - m)*(item - m)   # squared error
    sd = (sq / k) ** 0.5
    return m, sd
''',
    "stats-scale": '''def rescale(values, low=0.0, high=1.0):
    """The values mapped linearly onto [low, high]."""
    a = values[0]
    b = values[0]
    for v in values:
        if v < a:
            a = v
        if v > b:
            b = v
    res = []
    for v in values:
        if b == a:
            res.append(low)
        else:
            res.append(low + (high - low) * (v - a) / (b - a))
    return res
''',
}

CAROL = {
    "stats-summary": '''def summary(values):
    """The mean and the standard deviation of a list of numbers, as a tuple."""
    import statistics
    if not values:
        raise ValueError("empty")
    return statistics.fmean(values), statistics.pstdev(values)
''',
    "stats-scale": '''def rescale(values, low=0.0, high=1.0):
    """The values mapped linearly onto [low, high]."""
    ordered = sorted(values)
    span = ordered[-1] - ordered[0]
    result = list(map(lambda value: low if span == 0 else
                      low + (value - ordered[0]) / span * (high - low), values))
    return result
''',
}


def write_stats_course(root: Path) -> Path:
    (root / "course").mkdir(parents=True)
    (root / "course" / "course.toml").write_text('''\
[course]
id = "statstest"
title = "Stats test"
framework = "tinytorch"

[[modules]]
id = "01_stats"
title = "Stats"
due = "2026-09-14T23:59:00Z"
''', encoding="utf-8")
    (root / "course" / "roster.csv").write_text(
        "id,name,email\nalice,Alice A,a@x\nbob,Bob B,b@x\ncarol,Carol C,c@x\n"
        "dave,Dave D,d@x\nerin,Erin E,e@x\n", encoding="utf-8")
    folder = root / "source" / "01_stats"
    folder.mkdir(parents=True)
    (folder / "stats_dev.py").write_text(STATS, encoding="utf-8")
    course = load_course(root)
    module, release = release_of(course, "01_stats")
    for student, answers in (("alice", ALICE), ("bob", BOB), ("carol", CAROL)):
        nb = solved(module, release)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
        write_submission(root, student, "01_stats", nb, name=module.notebook_name)
    write_submission(root, "dave", "01_stats", solved(module, release), name=module.notebook_name)
    write_submission(root, "erin", "01_stats", release, name=module.notebook_name)
    return root
