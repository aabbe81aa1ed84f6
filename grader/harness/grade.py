"""Grade one submission: find and read the notebook, merge, run isolated, score.

The stages, in order: locate -> read -> merge -> run (engine) -> score -> late
policy -> result record + executed notebook. The record is a grader.result.Result
(result.json is its `to_json()`).
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
import nbformat
from nbformat import NotebookNode

from grader.engine import Cell, Job, RunResult
from grader.harness.merge import Merged, merge
from grader.harness.plan import graded_calls, job_for
from grader.harness.score import (cell_error_notices, run_notices, score_items,
                                  unit_test_records)
from grader.harness.session import GradingContext
from grader.harness.submitted_files import linked_folder, read_regular
from grader.late import apply_penalty
from grader.module import Module
from grader.result import Isolation, ItemResult, ItemStatus, Notice, Result

TIMESTAMP = "timestamp.txt"


@dataclass
class Graded:
    result: Result
    executed: NotebookNode | None      # the merged notebook with the run's outputs


def locate(folder: Path, expected: str) -> tuple[Path | None, list[Notice]]:
    """The submitted notebook: the expected name, else the folder's only .ipynb (`renamed`)."""
    path = folder / expected
    if path.is_file():
        return path, []
    others = sorted(p for p in folder.glob("*.ipynb") if p.is_file()) if folder.is_dir() else []
    if len(others) == 1:
        return others[0], [Notice("renamed", None,
                                  f"expected {expected} but found {others[0].name}; graded that "
                                  f"notebook (name it {expected} next time)")]
    return None, []


def parse_notebook(text: str) -> NotebookNode:
    """nbformat.reads(text, as_version=4), less its schema check, which only logs: a third
    of its time (and the validator it builds stays in the coordinator's memory)."""
    return nbformat.convert(nbformat.reader.reads(text), 4)


def read_submission(path: Path) -> NotebookNode:
    """Read a notebook leniently (students' files are often odd); ValueError if unreadable."""
    raw = read_regular(path)   # never through a link: see harness/submitted_files.py
    if not raw.strip():
        raise ValueError("the file is empty")
    try:
        nb = parse_notebook(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("the file is not UTF-8 text") from None
    except Exception as exc:  # nbformat raises NotJSONError, KeyError, ValidationError...
        raise ValueError(f"not a Jupyter notebook ({type(exc).__name__}: {exc})"[:300]) from None
    if not isinstance(nb.get("cells"), list):
        raise ValueError("not a Jupyter notebook (no cell list)")
    return nb


def digest_file(path: Path | None) -> str:
    try:
        return hashlib.sha256(read_regular(path)).hexdigest() if path else ""
    except (OSError, ValueError):
        return ""


def new_result(module: Module, student: str, notebook: str, source_digest: str = "") -> Result:
    """A result with nothing scored yet (DESIGN.md, result.json)."""
    return Result(student=student, module=module.id, notebook=notebook, status="graded",
                  score=0.0, max_score=module.max_score, source_digest=source_digest,
                  submitted_at=None, days_late=0.0)


def zero_item_results(module: Module, status: ItemStatus, message: str) -> list[ItemResult]:
    """Every item at 0 with one message (no notebook: no answer to grade by hand either)."""
    return [ItemResult(id=i.id, kind=i.kind, points=i.points, score=0.0, line=i.line,
                       status=status, message=message) for i in module.items]


def executed_notebook(ctx: GradingContext, merged: Merged, run: RunResult,
                      result: Result) -> NotebookNode:
    outputs = {c.key: c for c in run.cells}
    for cell in merged.cells:
        if cell.cell.cell_type == "code" and cell.key in outputs:
            cell.cell.outputs = [nbformat.from_dict(o) for o in outputs[cell.key].outputs]
    metadata = {**ctx.released.metadata, "grader": {
        **ctx.released.metadata.get("grader", {}), "assessments": {},
        "result": {"student": result.student, "score": result.score,
                   "max_score": result.max_score, "status": result.status}}}
    return merged.notebook(metadata)


def executed_text(nb: NotebookNode) -> str:
    """The executed notebook as nbformat.writes gives it, without nbformat's schema
    validation and defensive deep copy (~40% of its time): grader built `nb` itself,
    for this write only, and it is consumed (its text becomes line lists).
    tests/autograde/test_batch.py checks the files validate and equal nbformat's text."""
    from nbformat.v4.nbjson import BytesEncoder
    from nbformat.v4.rwbase import split_lines, strip_transient
    return json.dumps(strip_transient(split_lines(nb)), cls=BytesEncoder, indent=1,
                      sort_keys=True, separators=(",", ": "), ensure_ascii=False)


def run_submission(ctx: GradingContext, nb: NotebookNode, workdir: Path | None
                   ) -> tuple[Merged, RunResult]:
    merged = merge(ctx.module, nb, ctx.released)
    cells = [Cell(key=c.key, source=c.cell.source) for c in merged.code_cells()]
    calls = graded_calls(ctx.module, answered=merged.present,
                         in_kernel=ctx.course.item_in_kernel.get(ctx.module.id, set()))
    run = ctx.engine.run(job_for(ctx.module, cells, calls, workdir=workdir, limits=ctx.limits,
                                 framework=ctx.course.framework))
    return merged, run


def score_late(result: Result, folder: Path, late, notices: list[Notice]) -> None:
    """Set the score: the items' sum less the late penalty, when `late` (see
    grade_submission) finds a graded submission late; its notices go to `notices`."""
    raw = round(sum(i.score or 0.0 for i in result.items), 4)
    fraction = 0.0
    if late is not None and result.status == "graded":
        submitted_at, result.days_late, fraction, *note = late(folder)
        if note and note[0]:
            notices.append(Notice("late", None, note[0]))
        result.submitted_at = submitted_at.isoformat() if submitted_at else None
    result.score, result.late_penalty = apply_penalty(raw, result.max_score, fraction)
    if fraction > 0:
        notices.append(Notice("late", None, f"submitted {result.days_late:.2f} days late: "
                                            f"-{result.late_penalty:g} points"))


def grade_submission(ctx: GradingContext, student: str, folder: Path,
                     late=None) -> Graded:
    """Grade `folder` (submitted/STUDENT/MODULE). `late(folder) -> (submitted_at,
    days_late, penalty_fraction[, notice])` applies the late policy (None: not late);
    a notice (e.g. an unreadable timestamp.txt) becomes a `late` notice."""
    started = time.perf_counter()
    linked = linked_folder(folder)
    path, notices = (None, []) if linked else locate(folder, ctx.module.notebook_name)
    result = new_result(ctx.module, student, path.name if path else ctx.module.notebook_name,
                        ctx.reference.digest if ctx.reference else "")
    result.submission_digest = digest_file(path)
    executed = None
    if linked:
        result.status = "invalid"
        result.items = zero_item_results(ctx.module, "missing", linked)
    elif path is None:
        result.status = "missing"
        result.items = zero_item_results(
            ctx.module, "missing", f"no notebook submitted (expected {ctx.module.notebook_name})")
    else:
        try:
            nb = read_submission(path)
        except (ValueError, OSError) as exc:
            result.status = "invalid"
            result.items = zero_item_results(ctx.module, "missing",
                                             f"{path.name} could not be read: {exc}")
        else:
            merged, run = run_submission(ctx, nb, folder)
            notices += (merged.notices + run_notices(run)
                        + cell_error_notices(ctx.module, run, merged))
            result.items = score_items(ctx.course, ctx.module, run, merged, ctx.reference,
                                       ctx.released)
            result.unit_tests = unit_test_records(run, merged)
            result.isolation = Isolation.from_report(run.isolation)
            result.restarts = run.restarts
            executed = executed_notebook(ctx, merged, run, result)
    score_late(result, folder, late, notices)
    result.notices = notices
    result.duration_s = round(time.perf_counter() - started, 3)
    if executed is not None:
        executed.metadata["grader"]["result"]["score"] = result.score
    return Graded(result=result, executed=executed)
