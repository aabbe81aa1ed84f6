"""Score a run: items, unit tests and notices, as DESIGN.md's result.json records them
(the types of grader/result.py; each item helper gives the fields of its ItemResult)."""
from __future__ import annotations

import hashlib
from typing import Any

from nbformat import NotebookNode

from grader.course import Course
from grader.engine import CallResult, CellResult, RunResult
from grader.harness.compare import compare
from grader.harness.merge import Merged, Notice
from grader.harness.messages import CellLabel, describe_error, short, traceback_excerpt
from grader.harness.plan import UNIT_PREFIX
from grader.harness.reference import Reference
from grader.module import GradedItem, Module
from grader.result import ItemResult, UnitTestResult

CALL_STATUS_WORDS = {
    "timeout": "did not finish within the time limit (an infinite loop?)",
    "crashed": "the Python process died (os._exit, a segfault, or memory exhausted)",
}


def cell_labels(merged: Merged) -> dict[str, CellLabel]:
    """Cells named as the student finds them: their position in the submitted notebook
    (markdown cells count) and, for the course's cells, the grade_id."""
    labels = {}
    for cell in merged.cells:
        if cell.student_index is None:
            label = f"cell '{cell.key}' (restored from the release)"
        elif cell.origin is not None:
            label = f"cell {cell.student_index + 1} ('{cell.key}')"
        else:
            label = f"cell {cell.student_index + 1}"
        labels[cell.key] = CellLabel(label=label, text=cell.cell.source)
    return labels


def call_message(call: CallResult, labels: dict[str, CellLabel]) -> str:
    if call.status == "passed":
        return "passed"
    if call.status in CALL_STATUS_WORDS:
        what = f"{call.function}()" if call.function else "the call"
        return f"{what} {CALL_STATUS_WORDS[call.status]}"
    if call.error is not None:
        return describe_error(call.error, labels, call.function)
    return call.status


def _test_item(item: GradedItem, call: CallResult | None, cell: CellResult | None,
               labels: dict[str, CellLabel]) -> dict[str, Any]:
    out = {"status": "passed", "score": item.points, "message": "all checks passed"}
    if cell is not None and cell.status != "ok" and cell.error is not None:
        out = {"status": "error", "score": 0.0, "traceback": traceback_excerpt(cell.error, labels),
               "message": "the test cell failed when the notebook ran: "
                          + describe_error(cell.error, labels)}
    if call is None:
        return {"status": "error", "score": 0.0, "message": "the test was not run"}
    if call.status != "passed":
        out = {"status": call.status, "score": 0.0, "message": call_message(call, labels),
               "traceback": traceback_excerpt(call.error, labels)}
    return out


def _assessment_item(course: Course, module: Module, item: GradedItem, call: CallResult | None,
                     cell: CellResult | None, ref: Reference | None,
                     labels: dict[str, CellLabel], answered: bool) -> dict[str, Any]:
    name = item.functions[0] if item.functions else "the function"
    if not answered:
        return {"status": "missing", "score": 0.0,
                "message": f"the answer cell '{item.id}' was deleted; restore it from the "
                           f"release and define {name}() there"}
    never_defined = (call is not None and call.error is not None
                     and call.error.ename == "NameError" and name in call.error.evalue)
    if never_defined and cell is not None and cell.status in ("crashed", "timeout"):
        what = ("killed the Python process" if cell.status == "crashed"
                else "did not finish within the time limit")
        return {"status": cell.status, "score": 0.0,
                "message": f"the answer cell '{item.id}' {what} when the notebook ran, so "
                           f"{name}() was never defined"}
    if call is None:
        return {"status": "missing", "score": 0.0, "message": f"{name}() was not called"}
    if call.status != "passed":
        return {"status": call.status, "score": 0.0, "message": call_message(call, labels),
                "traceback": traceback_excerpt(call.error, labels)}
    if call.value_error:
        return {"status": "failed", "score": 0.0,
                "message": f"{name}() returned something that is not plain data: "
                           f"{short(call.value_error)}"}
    if ref is None or item.id not in ref.answers:
        return {"status": "error", "score": 0.0,
                "message": "no reference answer for this item (the reference solution failed); "
                           "tell your instructor"}
    volatile = frozenset(ref.volatile.get(item.id, []))
    if "(value)" in volatile or (isinstance(ref.answers[item.id], dict)
                                 and volatile >= set(ref.answers[item.id])):
        return {"status": "manual", "score": 0.0,
                "message": "the reference answer changes from run to run: graded by hand",
                "fields": []}
    comparison = compare(call.value, ref.answers[item.id],
                         course.tolerance_for(module.id, item.id), volatile)
    status = ("passed" if comparison.fraction >= 1.0 else
              "partial" if comparison.fraction > 0 else "failed")
    return {"status": status, "score": round(item.points * comparison.fraction, 4),
            "message": f"{name}(): {comparison.message}",
            "fields": comparison.fields}


def _normalise(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def answer_digest(text: str) -> str:
    """Identifies a manual answer: a manual grade stands while this stays the same."""
    return hashlib.sha256(_normalise(text).encode("utf-8")).hexdigest()[:16]


def released_answers(released: NotebookNode | None) -> dict[str, str]:
    if released is None:
        return {}
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in released.cells
            if c.metadata.get("nbgrader", {}).get("grade_id")}


def _manual_item(item: GradedItem, merged: Merged, released: dict[str, str]) -> dict[str, Any]:
    """nbgrader's rule: an answer left as released scores 0; any other answer (and every
    task) waits for a human. The answer's digest lets a manual grade survive re-grading."""
    if item.task:
        student_text = "\n\n".join(c.cell.source for c in merged.cells
                                    if c.origin is None or not c.origin.nbgrader.get("locked"))
        return {"status": "manual", "score": 0.0, "message": "needs manual grading (task)",
                "task": True,
                "answer_digest": answer_digest(student_text)}
    cell = next((c for c in merged.cells if c.key == item.id), None)
    if cell is None:
        return {"status": "missing", "score": 0.0,
                "message": f"the answer cell '{item.id}' was deleted: no answer"}
    if item.id in released and _normalise(cell.cell.source) == _normalise(released[item.id]):
        return {"status": "failed", "score": 0.0, "answer_digest": answer_digest(cell.cell.source),
                "message": "the answer is unchanged from the release: no answer given"}
    return {"status": "manual", "score": 0.0, "message": "needs manual grading",
            "answer_digest": answer_digest(cell.cell.source)}


def score_items(course: Course, module: Module, run: RunResult, merged: Merged,
                ref: Reference | None, released: NotebookNode | None = None
                ) -> list[ItemResult]:
    calls = {c.key: c for c in run.calls}
    cells = {c.key: c for c in run.cells}
    labels = cell_labels(merged)
    answers = released_answers(released)
    items = []
    for item in module.items:
        if item.kind == "manual":
            scored = _manual_item(item, merged, answers)
        elif item.kind == "test":
            scored = _test_item(item, calls.get(item.id), cells.get(item.id), labels)
        else:
            scored = _assessment_item(course, module, item, calls.get(item.id),
                                      cells.get(item.id), ref, labels, item.id in merged.present)
        items.append(ItemResult(id=item.id, kind=item.kind, points=item.points, line=item.line,
                                **scored))
    return items


def unit_test_records(run: RunResult, merged: Merged) -> list[UnitTestResult]:
    labels = cell_labels(merged)
    return [UnitTestResult(name=c.key[len(UNIT_PREFIX):], status=c.status,
                           message=call_message(c, labels))
            for c in run.calls if c.key.startswith(UNIT_PREFIX)]


def cell_error_notices(module: Module, run: RunResult, merged: Merged) -> list[Notice]:
    """An error in a cell that is not graded (the imports cell's ModuleNotFoundError, a
    stray 1/0) is reported too, with the cell and line: it often explains every failure
    after it. Graded cells report their errors in their items."""
    graded = {item.id for item in module.items}
    labels = cell_labels(merged)
    notices = []
    for cell in run.cells:
        if cell.status == "error" and cell.error is not None and cell.key not in graded:
            notices.append(Notice("cell_error", cell.key,
                                  describe_error(cell.error, labels)))
    return notices


def run_notices(run: RunResult) -> list[Notice]:
    notices = []
    for cell in run.cells:
        if cell.truncated:
            notices.append(Notice("truncated_output", cell.key,
                                  "the cell printed more than the output limit; the rest was dropped"))
        if cell.status == "timeout":
            notices.append(Notice("timeout", cell.key,
                                  "the cell was stopped at the time limit; the notebook went on"))
        elif cell.status == "crashed":
            notices.append(Notice("crashed", cell.key,
                                  "the cell killed the Python process; it was skipped and the "
                                  "rest of the notebook ran in a fresh process"))
    for notice in run.notices:   # the supervisor's: protocol violations, the time budget
        notices.append(Notice(notice.kind, notice.key, notice.message))
    missing = [k for k, ok in run.isolation.guarantees.items() if not ok]
    if missing:
        notices.append(Notice("isolation", None,
                              f"isolation mode {run.isolation.mode}: not guaranteed: "
                              f"{', '.join(missing)}. " + " ".join(run.isolation.notes)))
    return notices
