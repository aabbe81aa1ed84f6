"""Feedback pages: feedback/STUDENT/MODULE/<notebook stem>.html, one per result record.

The page is built from a normalised view of the record, so a template (including
a course's override) never sees reference values unless `policy.show_expected`, nor
the item's line in the instructor's source (students never see that file).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment

from grader.course import Course, ModuleConfig
from grader.errors import ConfigError
from grader.files import write_atomic
from grader.harness.messages import name_cell_frames
from grader.reports.env import template_env
from grader.result import ItemResult, Notice, Result

FEEDBACK_TEMPLATE = "feedback.html"

# What each isolation guarantee means for a student's code: (when it held, when it did not).
GUARANTEE_WORDS = {
    "memory_limit": ("It had a memory limit: code that used too much memory stopped only "
                     "your notebook.", "No memory limit was enforced on the grading machine."),
    "no_network": ("It had no network: downloads and web requests fail when graded, so "
                   "keep the data your notebook needs in the notebook's folder.",
                   "Network access was not blocked on the grading machine."),
    "private_filesystem": ("It saw only a private copy of your submission folder, never the "
                           "course's solutions or other students' work.",
                           "Its file access was not limited to your submission folder."),
    "unprivileged_uid": ("It ran as a user with no rights on the grading machine.",
                         "It ran as the grading machine's own user."),
    "no_leftover_processes": ("Every process it started was stopped when grading finished.",
                              "Processes it started were not guaranteed to be stopped."),
    "process_limit": ("It could start only a limited number of processes: a runaway of "
                      "processes stopped only your notebook.",
                      "The number of processes it could start was not limited."),
    "disk_limit": ("Its working folder had a size limit: writing huge files stopped only your "
                   "notebook.", "The size of the files it could write was not limited."),
    "trusted_tests": ("The tests that decide your score ran apart from your code, so your "
                      "code could not change how it was graded.",
                      "The tests ran in the same process as your code."),
}
NOTICE_LABELS = {
    "cell_error": ("Error in a cell", "warn"),
    "tampered": ("Locked cell changed", "warn"), "restored": ("Cell put back", "warn"),
    "renamed": ("Notebook renamed", "info"), "truncated_output": ("Output cut", "muted"),
    "timeout": ("Cell timed out", "bad"), "crashed": ("Cell crashed", "bad"),
    "late": ("Late", "warn"), "isolation": ("Isolation", "muted"), "error": ("Error", "bad"),
}
ISOLATION_NOTICE = ("Some protections were not available on the grading machine (see \"How your "
                    "notebook was run\" below). This does not change your score.")


def feedback_path(course: Course, result: Result | dict[str, Any]) -> Path:
    if not isinstance(result, Result):
        result = Result.from_json(result)
    several = len(result.notebooks or []) > 1     # one page for the whole assignment
    stem = Path(result.module if several or not result.notebook else result.notebook).stem
    return course.feedback_dir / (result.student or "") / result.module / f"{stem}.html"


def _module(course: Course, module_id: str) -> ModuleConfig | None:
    try:
        return course.module(module_id)
    except ConfigError:
        return None


def _student_name(course: Course, student_id: str) -> str:
    try:
        return next((s.name for s in course.roster() if s.id == student_id), "")
    except ConfigError:
        return ""


def _item_view(item: ItemResult, show_expected: bool) -> dict[str, Any]:
    fields = []
    for field in item.fields:
        view = {"key": field.key, "got": field.got, "has_got": True, "ok": field.ok,
                "volatile": field.volatile or field.ok is None}
        if show_expected:
            view["expected"] = field.expected
        fields.append(view)
    return {
        "id": item.id,
        "kind": item.kind,
        "status": item.status,
        "points": float(item.points),
        "score": float(item.score or 0.0),
        "message": item.message,
        "fields": fields,
        "matched": sum(1 for f in fields if f["ok"] is True),
        "scored": sum(1 for f in fields if not f["volatile"]),
        "traceback": "\n".join(name_cell_frames([line.rstrip("\n")
                                                 for line in item.traceback or []])),
        "notebook": item.notebook or "",
        "comment": item.manual.comment if item.manual else "",
        "graded_by_hand": item.manual is not None,
        "regrade": item.manual is not None and item.manual.stale,
        "manual_score": item.manual.score if item.manual else None,
    }


def _notice_view(notice: Notice) -> dict[str, str]:
    label, tone = NOTICE_LABELS.get(notice.kind,
                                    (notice.kind.replace("_", " ").capitalize(), "muted"))
    # the engine's words (uids, namespaces) are for instructors
    message = ISOLATION_NOTICE if notice.kind == "isolation" else notice.message
    return {"kind": notice.kind, "label": label, "tone": tone, "cell": notice.cell or "",
            "message": message}


def _isolation_points(guarantees: dict[str, Any]) -> list[dict[str, Any]]:
    """Each guarantee as a sentence a student understands, in a fixed order."""
    order = list(GUARANTEE_WORDS) + sorted(set(guarantees) - set(GUARANTEE_WORDS))
    points = []
    for key in order:
        if key not in guarantees:
            continue
        held = bool(guarantees[key])
        words = GUARANTEE_WORDS.get(key)
        text = (words[0] if held else words[1]) if words else key.replace("_", " ")
        points.append({"key": key, "held": held, "text": text})
    return points


def feedback_context(course: Course, result: Result | dict[str, Any], *,
                     student_name: str | None = None) -> dict[str, Any]:
    if not isinstance(result, Result):
        result = Result.from_json(result)
    show_expected = bool(course.policy.show_expected)
    items = [_item_view(item, show_expected) for item in result.items]
    score, penalty, max_score = float(result.score), result.late_penalty, result.max_score
    counts: dict[str, int] = {}
    for item in items:
        counts[item["status"]] = counts.get(item["status"], 0) + 1
    module = _module(course, result.module)
    student = result.student or ""
    return {
        "course": {"id": course.id, "title": course.title},
        "module": {"id": result.module, "title": module.title if module else result.module,
                   "due": module.due if module else None},
        "student": {"id": student,
                    "name": _student_name(course, student) if student_name is None else student_name},
        "notebook": result.notebook,
        "status": result.status,
        "message": "",            # a result has no message of its own: its items say why
        "score": score,
        "max_score": max_score,
        "percent": (100.0 * score / max_score) if max_score else 0.0,
        "late_penalty": penalty,
        "score_before_penalty": score + penalty,
        "days_late": result.days_late or 0.0,
        "submitted_at": result.submitted_at,
        "graded_at": None,
        "duration_s": result.duration_s,
        "submission_digest": result.submission_digest or "",
        "items": items,
        "counts": counts,
        "manual_items": [i for i in items if i["status"] == "manual"],
        "notebooks": [{"notebook": n.notebook, "status": n.status, "score": float(n.score),
                       "max_score": float(n.max_score)} for n in result.notebooks or []],
        "unit_tests": [{"name": t.name, "status": t.status, "message": t.message}
                       for t in result.unit_tests],
        "notices": [_notice_view(n) for n in result.notices],
        "isolation": ({"mode": result.isolation.mode,
                       "points": _isolation_points(result.isolation.guarantees),
                       "notes": list(result.isolation.notes)} if result.isolation else
                      {"mode": "", "points": [], "notes": []}),
        "show_expected": show_expected,
    }


def render_feedback(course: Course, result: Result | dict[str, Any], *, env: Environment | None = None,
                    student_name: str | None = None) -> str:
    """The feedback page of one result record, as a self-contained HTML document.

    `env` and `student_name` let a caller rendering many pages reuse one template
    environment and one read of the roster.
    """
    template = (env or template_env(course)).get_template(FEEDBACK_TEMPLATE)
    return template.render(**feedback_context(course, result, student_name=student_name))


def write_html(path: Path, html: str) -> Path:
    """Write atomically, so a browser (or a dashboard link) never sees half a page;
    readable by all (a web server may serve it)."""
    return write_atomic(path, html, mode=0o644)


def write_feedback(course: Course, result: Result | dict[str, Any], *, env: Environment | None = None,
                   student_name: str | None = None) -> Path:
    """Write feedback/STUDENT/MODULE/<notebook stem>.html and return its path."""
    html = render_feedback(course, result, env=env, student_name=student_name)
    return write_html(feedback_path(course, result), html)
