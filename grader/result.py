"""The result of grading one submission (DESIGN.md, "Result of one submission"), typed.

`Result` and its parts are what result.json holds; `to_json()` gives the JSON object
and `from_json()` reads one back (checking every field), so that
`Result.from_json(r.to_json()) == r` and `Result.from_json(d).to_json() == d` for every
record grader writes. Beyond DESIGN.md's fields a record carries what the batch and the
gradebook need: the digests that let a re-run skip unchanged work, the submission time,
the isolation report and the number of sandbox restarts. A self-check (`grader check`,
status `checked`) has no submission, so it carries none of the submission's fields and
its items have no score until graded (score None).

Optional fields are left out of the JSON while they are None (a record that never ran
has no `isolation`); `student`, `cell` and `submitted_at` are written as null.
`schema_version` changes when a field changes meaning; a record without one was written
before the field existed and reads as version 1.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, get_args

from grader.errors import GraderError

SCHEMA_VERSION = 1

ResultStatus = Literal["graded", "invalid", "missing", "error", "checked"]
ItemKind = Literal["test", "assessment", "manual"]
ItemStatus = Literal["passed", "failed", "error", "timeout", "crashed", "missing", "manual",
                     "partial", "answered"]    # answered: a self-check's assessment, unscored
UnitTestStatus = Literal["passed", "failed", "error", "timeout", "crashed"]
NoticeKind = Literal["tampered", "restored", "renamed", "ignored", "truncated_output", "timeout",
                     "crashed", "late", "isolation", "cell_error"]
IsolationMode = Literal["namespaces", "userns", "bubblewrap", "rlimits"]

# the submission was not graded: the harness failed, or there was no readable notebook
FAILED_STATUSES = frozenset({"error", "invalid", "missing"})


class ResultFormatError(GraderError, ValueError):
    """A result record that does not have the shape of result.json (commands report it
    as an error, exit 2, like any GraderError)."""


def _one_of(value: Any, allowed: Any, what: str) -> Any:
    if value not in get_args(allowed):
        raise ResultFormatError(f"{what} is {value!r}, not one of {', '.join(get_args(allowed))}")
    return value


def _number(data: Mapping[str, Any], key: str, what: str) -> float:
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ResultFormatError(f"{what}.{key} is {value!r}, not a number")
    return value


def _text(data: Mapping[str, Any], key: str, what: str, *, optional: bool = False) -> str | None:
    value = data.get(key) if optional else data[key]
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise ResultFormatError(f"{what}.{key} is {value!r}, not text")
    return value


def _lines(value: Any, what: str) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(line, str) for line in value):
        raise ResultFormatError(f"{what} is {value!r}, not a list of lines")
    return list(value)


def _flag(data: Mapping[str, Any], key: str) -> bool:
    """Keys written only when true (`"volatile": true`)."""
    if key in data and data[key] is not True:
        raise ResultFormatError(f"{key} is {data[key]!r}; it is written only as true")
    return key in data


def _known(data: Mapping[str, Any], cls: type, what: str) -> Mapping[str, Any]:
    """`data` if it has no key that `cls` does not know (nothing is dropped unread)."""
    if not isinstance(data, Mapping):
        raise ResultFormatError(f"{what} is {data!r}, not an object")
    unknown = set(data) - {f.name for f in fields(cls)}
    if unknown:
        raise ResultFormatError(f"unknown {what} field(s): {', '.join(sorted(unknown))}")
    return data


def _without_none(data: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None or k in keep}


@dataclass
class Field:
    """One key of an assessment's answer compared with the reference's."""
    key: str
    expected: Any
    got: Any
    ok: bool | None            # None: volatile, reported and not scored
    volatile: bool = False
    missing: bool = False      # the student's answer has no such key

    def to_json(self) -> dict[str, Any]:
        out = {"key": self.key, "expected": self.expected, "got": self.got, "ok": self.ok}
        if self.volatile:
            out["volatile"] = True
        if self.missing:
            out["missing"] = True
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Field:
        _known(data, cls, "field")
        if data["ok"] not in (True, False, None):
            raise ResultFormatError(f"field {data['key']!r}: ok is {data['ok']!r}")
        return cls(key=str(data["key"]), expected=data["expected"], got=data["got"],
                   ok=data["ok"], volatile=_flag(data, "volatile"), missing=_flag(data, "missing"))


@dataclass
class AutoVerdict:
    """The autograder's verdict on an item a human has graded (kept to start again from)."""
    score: float | None
    status: ItemStatus
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"score": self.score, "status": self.status, "message": self.message}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AutoVerdict:
        _known(data, cls, "auto")
        return cls(score=None if data["score"] is None else _number(data, "score", "auto"),
                   status=_one_of(data["status"], ItemStatus, "auto status"),
                   message=_text(data, "message", "auto"))


@dataclass
class ManualGrade:
    """A grade a human gave the item (grader/gradebook/manual.py applies it)."""
    score: float
    comment: str
    reason: str             # why an autograded item's score was overridden
    graded_at: str
    stale: bool             # the answer changed since: the grade is shown, not counted
    auto_score: float | None

    def to_json(self) -> dict[str, Any]:
        return {"score": self.score, "comment": self.comment, "reason": self.reason,
                "graded_at": self.graded_at, "stale": self.stale, "auto_score": self.auto_score}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ManualGrade:
        _known(data, cls, "manual grade")
        if not isinstance(data["stale"], bool):
            raise ResultFormatError(f"manual grade: stale is {data['stale']!r}")
        return cls(score=_number(data, "score", "manual grade"),
                   comment=_text(data, "comment", "manual grade"),
                   reason=_text(data, "reason", "manual grade"),
                   graded_at=str(data["graded_at"]), stale=data["stale"],
                   auto_score=(None if data["auto_score"] is None
                               else _number(data, "auto_score", "manual grade")))


@dataclass
class ItemResult:
    """A graded item: a test, a computational assessment or a manual answer."""
    id: str
    kind: ItemKind
    points: float
    score: float | None                 # None only in a self-check (not graded)
    status: ItemStatus
    message: str
    fields: list[Field] = field(default_factory=list)
    line: int | None = None             # the item's line in the instructor's source
    traceback: list[str] | None = None  # the lines of the error's student-facing traceback
    answer_digest: str | None = None    # manual: identifies the answer a manual grade is for
    task: bool = False                  # manual: a task cell (the answer is the notebook)
    auto: AutoVerdict | None = None     # graded by hand: what the autograder said
    manual: ManualGrade | None = None   # graded by hand: the human's grade
    notebook: str | None = None         # assignments of several notebooks: which one

    def to_json(self) -> dict[str, Any]:
        return _without_none({
            "id": self.id, "kind": self.kind, "points": self.points, "line": self.line,
            "status": self.status, "score": self.score, "message": self.message,
            "traceback": self.traceback, "task": True if self.task else None,
            "answer_digest": self.answer_digest,
            "fields": [f.to_json() for f in self.fields], "notebook": self.notebook,
            "auto": self.auto.to_json() if self.auto else None,
            "manual": self.manual.to_json() if self.manual else None,
        }, keep=("score",))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ItemResult:
        _known(data, cls, "item")
        what = f"item {data.get('id')!r}"
        line = data.get("line")
        if line is not None and (isinstance(line, bool) or not isinstance(line, int)):
            raise ResultFormatError(f"{what}: line is {line!r}")
        return cls(id=_text(data, "id", "item"),
                   kind=_one_of(data["kind"], ItemKind, f"{what} kind"),
                   points=_number(data, "points", what),
                   score=None if data["score"] is None else _number(data, "score", what),
                   status=_one_of(data["status"], ItemStatus, f"{what} status"),
                   message=_text(data, "message", what),
                   fields=[Field.from_json(f) for f in data["fields"]], line=line,
                   traceback=_lines(data.get("traceback"), f"{what} traceback"),
                   answer_digest=_text(data, "answer_digest", what, optional=True),
                   task=_flag(data, "task"),
                   auto=AutoVerdict.from_json(data["auto"]) if data.get("auto") else None,
                   manual=ManualGrade.from_json(data["manual"]) if data.get("manual") else None,
                   notebook=_text(data, "notebook", what, optional=True))


@dataclass
class UnitTestResult:
    """An ungraded test* function, called for feedback (no points)."""
    name: str
    status: UnitTestStatus
    message: str
    notebook: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _without_none({"name": self.name, "status": self.status, "message": self.message,
                              "notebook": self.notebook})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UnitTestResult:
        _known(data, cls, "unit test")
        what = f"unit test {data.get('name')!r}"
        return cls(name=_text(data, "name", "unit test"),
                   status=_one_of(data["status"], UnitTestStatus, f"{what} status"),
                   message=_text(data, "message", what),
                   notebook=_text(data, "notebook", what, optional=True))


@dataclass
class Notice:
    """Something the student (and the instructor) should know about the grading."""
    kind: NoticeKind
    cell: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "cell": self.cell, "message": self.message}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Notice:
        _known(data, cls, "notice")
        return cls(kind=_one_of(data["kind"], NoticeKind, "notice kind"),
                   cell=_text(data, "cell", "notice", optional=True),
                   message=_text(data, "message", "notice"))


@dataclass
class Isolation:
    """Which isolation guarantees held for the run (the engine's IsolationReport)."""
    mode: IsolationMode
    guarantees: dict[str, bool]
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"mode": self.mode, "guarantees": dict(self.guarantees), "notes": list(self.notes)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Isolation:
        _known(data, cls, "isolation")
        guarantees = data["guarantees"]
        if not all(isinstance(k, str) and isinstance(v, bool) for k, v in guarantees.items()):
            raise ResultFormatError(f"isolation guarantees are not names -> true/false: {guarantees!r}")
        return cls(mode=_one_of(data["mode"], IsolationMode, "isolation mode"),
                   guarantees=dict(guarantees), notes=[str(n) for n in data["notes"]])

    @classmethod
    def from_report(cls, report: Any) -> Isolation:
        """From the engine's IsolationReport (grader.engine; not imported here)."""
        return cls(mode=report.mode, guarantees=dict(report.guarantees), notes=list(report.notes))

    @property
    def missing(self) -> list[str]:
        """The guarantees that did not hold."""
        return [name for name, held in self.guarantees.items() if not held]


@dataclass
class NotebookSummary:
    """One notebook of an assignment of several: its own status and score."""
    notebook: str
    status: ResultStatus
    score: float                  # before any late penalty (that applies to the assignment)
    max_score: float
    needs_manual_grading: int = 0
    submission_digest: str | None = None    # this notebook's own

    def to_json(self) -> dict[str, Any]:
        return _without_none({
            "notebook": self.notebook, "status": self.status, "score": self.score,
            "max_score": self.max_score, "needs_manual_grading": self.needs_manual_grading,
            "submission_digest": self.submission_digest})

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> NotebookSummary:
        _known(data, cls, "notebook")
        what = f"notebook {data.get('notebook')!r}"
        return cls(notebook=_text(data, "notebook", "notebook"),
                   status=_one_of(data["status"], ResultStatus, f"{what} status"),
                   score=_number(data, "score", what), max_score=_number(data, "max_score", what),
                   needs_manual_grading=int(data.get("needs_manual_grading", 0)),
                   submission_digest=_text(data, "submission_digest", what, optional=True))


@dataclass
class Result:
    """result.json of one submission (or the record of a self-check)."""
    student: str | None                 # None: a self-check
    module: str
    notebook: str
    status: ResultStatus
    score: float                        # after the late penalty
    max_score: float
    late_penalty: float = 0.0
    items: list[ItemResult] = field(default_factory=list)
    unit_tests: list[UnitTestResult] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    duration_s: float = 0.0
    # the submission's fields (none in a self-check)
    source_digest: str | None = None    # source + framework stage + harness: the reference's
    submitted_at: str | None = None     # ISO 8601 from timestamp.txt; None: unknown
    days_late: float | None = None
    submission_digest: str | None = None
    # written once the notebook ran
    isolation: Isolation | None = None
    restarts: int | None = None
    folder_digest: str | None = None    # the batch's skip-unchanged key
    notebooks: list[NotebookSummary] | None = None   # an assignment's notebooks
    schema_version: int = SCHEMA_VERSION

    @property
    def is_check(self) -> bool:
        return self.status == "checked"

    @property
    def failed_to_run(self) -> bool:
        """The submission did not run to the end: a failed status, or an item whose
        kernel crashed (it scored 0 for a reason that is not the student's answer)."""
        return (self.status in FAILED_STATUSES
                or any(item.status == "crashed" for item in self.items))

    @property
    def late(self) -> bool:
        """Submitted after the due date (and its grace), or docked for it."""
        return (self.days_late or 0.0) > 0 or self.late_penalty > 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "student": self.student, "module": self.module, "notebook": self.notebook,
            "status": self.status, "score": self.score, "max_score": self.max_score,
            "late_penalty": self.late_penalty, "items": [i.to_json() for i in self.items],
            "unit_tests": [u.to_json() for u in self.unit_tests],
            "notices": [n.to_json() for n in self.notices], "duration_s": self.duration_s}
        if not self.is_check:
            out.update(source_digest=self.source_digest, submitted_at=self.submitted_at,
                       days_late=self.days_late)
        out.update(_without_none({
            "submission_digest": self.submission_digest,
            "isolation": self.isolation.to_json() if self.isolation else None,
            "restarts": self.restarts, "folder_digest": self.folder_digest,
            "notebooks": ([n.to_json() for n in self.notebooks]
                          if self.notebooks is not None else None)}))
        out["schema_version"] = self.schema_version
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Result:
        if not isinstance(data, Mapping):
            raise ResultFormatError(f"a result is a JSON object, not {type(data).__name__}")
        version = data.get("schema_version", 1)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            raise ResultFormatError(f"result schema_version {version!r}: this grader reads "
                                    f"up to {SCHEMA_VERSION}")
        _known(data, cls, "result")
        status = _one_of(data["status"], ResultStatus, "status")
        restarts = data.get("restarts")
        if restarts is not None and (isinstance(restarts, bool) or not isinstance(restarts, int)):
            raise ResultFormatError(f"restarts is {restarts!r}")
        is_check = status == "checked"
        return cls(
            student=_text(data, "student", "result", optional=True),
            module=_text(data, "module", "result"), notebook=_text(data, "notebook", "result"),
            status=status, score=_number(data, "score", "result"),
            max_score=_number(data, "max_score", "result"),
            late_penalty=_number(data, "late_penalty", "result"),
            items=[ItemResult.from_json(i) for i in data["items"]],
            unit_tests=[UnitTestResult.from_json(u) for u in data["unit_tests"]],
            notices=[Notice.from_json(n) for n in data["notices"]],
            duration_s=_number(data, "duration_s", "result"),
            source_digest=None if is_check else _text(data, "source_digest", "result"),
            submitted_at=None if is_check else _text(data, "submitted_at", "result", optional=True),
            days_late=None if is_check else _number(data, "days_late", "result"),
            submission_digest=_text(data, "submission_digest", "result", optional=True),
            isolation=Isolation.from_json(data["isolation"]) if data.get("isolation") else None,
            restarts=restarts,
            folder_digest=_text(data, "folder_digest", "result", optional=True),
            notebooks=([NotebookSummary.from_json(n) for n in data["notebooks"]]
                       if data.get("notebooks") is not None else None),
            schema_version=version)

