"""Where the time of a grading batch goes: cProfile on the coordinator side, the engine's
own timings (per cell and per graded call, measured inside the sandbox) on the kernel side.

One worker grades the batch in the calling thread (the same functions the batch runs:
grade_submission, then Outputs.write), so cProfile sees everything the host does; the
time the host spends blocked in Engine.run is split, with the RunResults, into student
cells, graded calls, sandbox set-up/tear-down and the pipe round trip.
"""
from __future__ import annotations

import cProfile
import io
import pstats
import time
from collections import Counter
from pathlib import Path
from typing import Any

MODULE = "09_training"

# (label, function name, file suffix): cumulative times taken from the profile
HOST_PARTS = [
    ("read the submitted notebook", "read_submission", "grader/harness/grade.py"),
    ("merge with the source (restore locked/test cells)", "merge", "grader/harness/merge.py"),
    ("score items against the reference", "score_items", "grader/harness/score.py"),
    ("executed notebook (outputs into cells)", "executed_notebook", "grader/harness/grade.py"),
    ("feedback HTML (Jinja)", "write_feedback", "grader/reports/feedback.py"),
    ("gradebook write (SQLite, one transaction per batch)", "record_many", "grader/gradebook/store.py"),
    ("executed .ipynb (indented JSON)", "executed_text", "grader/harness/grade.py"),
    ("skip-unchanged digest of the folder", "folder_digest", "grader/autograde/discover.py"),
]


def _cumulative(stats: pstats.Stats, name: str, suffix: str) -> float:
    return sum(row[3] for (path, _, func), row in stats.stats.items()  # type: ignore[attr-defined]
               if func == name and path.replace("\\", "/").endswith(suffix))


def profile_batch(course: Any, students: list[str], out: Path) -> dict[str, Any]:
    from grader.autograde.batch import Outputs, late_checker
    from grader.autograde.discover import discover, folder_digest
    from grader.gradebook.store import open_gradebook
    from grader.harness.grade import grade_submission
    from grader.harness.session import engine_for, open_context, reference_for
    from grader.module import load_module

    submissions = discover(course, MODULE, students)
    module = load_module(course.root, MODULE, course=course)
    ref = reference_for(course, module, lambda: engine_for(course, MODULE))
    outputs = Outputs(course, open_gradebook(course.db_url))
    late = late_checker(course, MODULE)
    t0 = time.perf_counter()
    ctx = open_context(course, MODULE, reference=ref)
    open_s = time.perf_counter() - t0
    runs: list[Any] = []
    engine_run = ctx.engine.run

    def recording_run(job: Any) -> Any:
        result = engine_run(job)
        runs.append(result)
        return result

    ctx.engine.run = recording_run  # type: ignore[method-assign]
    profiler = cProfile.Profile()
    try:
        started = time.perf_counter()
        profiler.enable()
        for s in submissions:
            graded = grade_submission(ctx, s.student, s.folder, late=late)
            graded.result.folder_digest = folder_digest(s.folder)
            outputs.write(s, graded)
        outputs.flush()
        profiler.disable()
        total = time.perf_counter() - started
    finally:
        ctx.close()

    stats = pstats.Stats(profiler)
    engine_s = _cumulative(stats, "recording_run", "bench/profiling.py")
    # the supervisor's own clock (RunResult.timings): what the engine spent where
    def timed(key: str) -> float:
        return sum(r.timings.get(key, 0.0) for r in runs)
    cells_s, calls_s = timed("cells"), timed("calls")
    compute_s = sum(c.duration_s for r in runs for c in r.cells) + \
        sum(c.duration_s for r in runs for c in r.calls)
    in_sandbox_s = sum(r.duration_s for r in runs)
    parts = [("student cells running in the kernel", cells_s),
             ("graded calls (trusted driver, assessments, unit tests)", calls_s),
             ("sandbox start: fork, cgroup, namespaces, root, copy-in", timed("sandbox")),
             ("engine round trip (job and result, supervisor fork)",
              max(0.0, engine_s - in_sandbox_s))]
    parts += [(label, _cumulative(stats, name, suffix)) for label, name, suffix in HOST_PARTS]
    # write_atomic is called inside Outputs.write after feedback; the parts do not nest
    parts.append(("other (Python overhead, logging, ...)", max(0.0, total - sum(p[1] for p in parts))))
    cell_time: Counter[str] = Counter()
    for r in runs:
        for c in r.cells:
            cell_time[c.key] += c.duration_s
        for c in r.calls:
            cell_time[f"call {c.key}"] += c.duration_s

    buf = io.StringIO()
    pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(40)
    out.write_text(buf.getvalue(), encoding="utf-8")
    n = max(1, len(submissions))
    return {
        "submissions": len(submissions), "seconds": round(total, 3),
        "per_submission_s": round(total / n, 4), "engine_start_s": round(open_s, 3),
        # what a submission costs beyond its own code's compute (cells and calls as they
        # measure themselves in the kernel and the driver)
        "overhead_per_submission_s": round(max(0.0, total - compute_s) / n, 4),
        "breakdown": [{"what": label, "seconds": round(s, 3), "share": round(s / total, 4)}
                      for label, s in sorted(parts, key=lambda p: -p[1])],
        "slowest_cells": [{"cell": k, "seconds_per_submission": round(v / n, 4)}
                          for k, v in cell_time.most_common(6)],
        "pstats": str(out),
    }
