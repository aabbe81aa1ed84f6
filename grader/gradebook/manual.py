"""Manual grades: scores and comments a human gives (`grader formgrade`, `grader manual
import`), kept in their own gradebook table so re-grading never loses them.

A manual grade is tied to the answer it was given for (the item's `answer_digest`, or
the notebook's digest for an overridden autograded item). Applying the grades to a
result record (`apply_manual`) is idempotent: the autograded verdict is kept in the
item (`auto`), so a record can be re-applied after every change. When the answer has
changed since it was graded, the grade is not counted: the item waits for a human
again (status `manual`) and still shows the old score and comment (`manual.stale`).
"""
from __future__ import annotations

import copy
import csv
import io
import json
import math
import weakref
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Float, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from grader.course import Course, now_utc
from grader.errors import GraderError
from grader.extensions import due_for
from grader.files import write_atomic
from grader.gradebook.models import Base, UTCDateTime
from grader.gradebook.store import Gradebook
from grader.late import apply_penalty, assess_late, parse_timestamp
from grader.result import AutoVerdict, ItemResult, ManualGrade, Result

CSV_COLUMNS = ("student", "assignment", "notebook", "item", "score", "comment")


class ManualGradeError(GraderError):
    """A manual grade cannot be stored (unknown item, score out of range, ...)."""


class ManualGradeRow(Base):
    """A stored manual grade (grader.result.ManualGrade is the grade as a result shows it)."""
    __tablename__ = "manual_grades"
    __table_args__ = (UniqueConstraint("student_id", "module_id", "notebook", "item_id",
                                       name="uq_manual_grade"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(String(200))
    module_id: Mapped[str] = mapped_column(String(200))
    notebook: Mapped[str] = mapped_column(String(400))
    item_id: Mapped[str] = mapped_column(String(200))
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(Text, default="")      # why an autograde was overridden
    answer_digest: Mapped[str] = mapped_column(String(200), default="")
    graded_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Grade:
    student: str
    module: str
    notebook: str
    item: str
    score: float | None
    comment: str = ""
    reason: str = ""
    answer_digest: str = ""
    graded_at: str = ""


_HAS_TABLE: weakref.WeakSet = weakref.WeakSet()   # engines whose table is known to exist


def _ensure_table(gradebook: Gradebook) -> None:
    """Create the table if it is not there (once per engine: it is never dropped)."""
    if gradebook.engine not in _HAS_TABLE:
        ManualGradeRow.__table__.create(gradebook.engine, checkfirst=True)
        _HAS_TABLE.add(gradebook.engine)


def load_grades(gradebook: Gradebook, module: str, student: str | None = None
                ) -> dict[tuple[str, str, str], Grade]:
    """(student, notebook, item) -> Grade for one module (one query)."""
    _ensure_table(gradebook)
    row = ManualGradeRow
    query = select(row.student_id, row.module_id, row.notebook, row.item_id, row.score,
                   row.comment, row.reason, row.answer_digest, row.graded_at
                   ).where(row.module_id == module)
    if student is not None:
        query = query.where(row.student_id == student)
    with gradebook.engine.connect() as connection:
        return {(g.student_id, g.notebook, g.item_id): Grade(
            g.student_id, g.module_id, g.notebook, g.item_id, g.score, g.comment or "",
            g.reason or "", g.answer_digest or "", g.graded_at.isoformat() if g.graded_at else "")
            for g in connection.execute(query)}


# -- applying grades to a result record ---------------------------------------------------
def item_digest(result: Result, item: ItemResult) -> str:
    """What a manual grade of this item is tied to: the answer cell (manual items) or the
    whole notebook (an overridden autograded item)."""
    if item.answer_digest:
        return item.answer_digest
    notebook = item.notebook or result.notebook
    for part in result.notebooks or []:
        if part.notebook == notebook and part.submission_digest:
            return part.submission_digest
    return result.submission_digest or ""


def _status_for(score: float, points: float) -> str:
    if points <= 0 or score >= points:
        return "passed"
    return "partial" if score > 0 else "failed"


def _late_fraction(course: Course | None, result: Result) -> float:
    if course is None or not result.submitted_at:
        return 0.0
    try:
        course.module(result.module)
    except GraderError:
        return 0.0
    # the student's due date: an extension (course/extensions.csv) moves it; a broken
    # extensions.csv is an error here too, never a silently dropped penalty
    due = due_for(course, result.module, result.student)
    return assess_late(course.late, due, parse_timestamp(result.submitted_at)).penalty_fraction


def apply_manual(result: Result, grades: dict[tuple[str, str, str], Grade],
                 course: Course | None = None) -> Result:
    """The result with the manual grades applied (a new Result; idempotent)."""
    result = copy.deepcopy(result)
    for item in result.items:
        if item.auto is not None:     # start again from the autograded verdict
            item.score, item.status, item.message = item.auto.score, item.auto.status, \
                item.auto.message
            item.auto = None
        item.manual = None
        grade = grades.get((result.student, item.notebook or result.notebook, item.id))
        if grade is None or grade.score is None:
            continue
        item.auto = AutoVerdict(score=item.score, status=item.status, message=item.message)
        stale = bool(grade.answer_digest) and grade.answer_digest != item_digest(result, item)
        item.manual = ManualGrade(score=grade.score, comment=grade.comment, reason=grade.reason,
                                  graded_at=grade.graded_at, stale=stale, auto_score=item.score)
        if stale:
            item.status = "manual"
            item.message = (f"the answer changed since it was graded ({grade.score:g}/"
                            f"{item.points:g}): grade it again")
            continue
        item.score = float(grade.score)
        item.status = _status_for(grade.score, float(item.points))
        item.message = ("graded by hand" if item.kind == "manual" else
                        f"score set by hand ({grade.reason}); autograded {item.auto.score:g}")
    raw = round(sum(float(i.score or 0.0) for i in result.items), 4)
    if result.status == "graded":
        fraction = _late_fraction(course, result)
        result.score, result.late_penalty = apply_penalty(raw, float(result.max_score), fraction)
    for part in result.notebooks or []:
        mine = [i for i in result.items if i.notebook == part.notebook]
        part.score = round(sum(float(i.score or 0.0) for i in mine), 4)
        part.needs_manual_grading = sum(1 for i in mine if i.status == "manual")
    return result


def apply_stored(course: Course, gradebook: Gradebook | None, result: Result) -> Result:
    """A freshly autograded result with the gradebook's manual grades applied (one
    query; the result itself when the student has none on the module)."""
    if gradebook is None:
        return result
    grades = load_grades(gradebook, result.module, result.student)
    return apply_manual(result, grades, course) if grades else result


def stored_results(gradebook: Gradebook, module: str | None = None
                   ) -> dict[tuple[str, str], Result]:
    """(student, module) -> the stored result."""
    return {(r.student, r.module): r for r in gradebook.results(module)}


# -- entering grades ----------------------------------------------------------------------
def graded_item(result: Result | None, grade: Grade) -> ItemResult:
    """The item a grade is for; ManualGradeError says why the grade cannot be given."""
    if result is None:
        raise ManualGradeError(f"no graded submission of {grade.student} for {grade.module}")
    item = next((i for i in result.items
                 if i.id == grade.item and (i.notebook or result.notebook) == grade.notebook),
                None)
    if item is None:
        names = sorted({i.notebook or result.notebook for i in result.items})
        raise ManualGradeError(f"{grade.module} has no item {grade.item!r} in notebook "
                               f"{grade.notebook!r} (notebooks: {', '.join(names)})")
    if grade.score is not None:
        points = float(item.points)
        if not math.isfinite(grade.score) or not 0 <= grade.score <= points:
            raise ManualGradeError(f"score {grade.score:g} is out of range for {grade.item!r}: "
                                   f"0 to {points:g}")
        auto_score = item.auto.score if item.auto else item.score
        if item.kind != "manual" and not grade.reason.strip():
            raise ManualGradeError(f"{grade.item!r} is autograded ({auto_score:g}/{points:g}): "
                                   "overriding it needs a reason")
    return item


def save_grades(course: Course, gradebook: Gradebook, grades: list[Grade]) -> list[Result]:
    """Store grades (all or none), re-apply them to the stored results and rewrite each
    affected result.json and feedback page. Returns the updated results."""
    _ensure_table(gradebook)
    results = stored_results(gradebook)
    accepted = []
    for grade in grades:
        result = results.get((grade.student, grade.module))
        accepted.append((grade, item_digest(result, graded_item(result, grade))))
    moment = now_utc()

    def work(session: Session) -> None:
        for grade, digest in accepted:
            row = session.scalar(select(ManualGradeRow).where(
                ManualGradeRow.student_id == grade.student,
                ManualGradeRow.module_id == grade.module,
                ManualGradeRow.notebook == grade.notebook, ManualGradeRow.item_id == grade.item))
            if row is None:
                row = ManualGradeRow(student_id=grade.student, module_id=grade.module,
                                     notebook=grade.notebook, item_id=grade.item)
                session.add(row)
            row.score, row.comment, row.reason = grade.score, grade.comment, grade.reason
            row.answer_digest, row.graded_at = digest, moment

    gradebook._transact(work)
    updated = []
    for student, module in dict.fromkeys((g.student, g.module) for g, _ in accepted):
        record = apply_manual(results[(student, module)], load_grades(gradebook, module, student),
                              course)
        gradebook.record(record)
        path = course.autograded_dir / student / module / "result.json"
        if path.parent.is_dir():
            write_atomic(path, json.dumps(record.to_json(), indent=1))
        try:
            from grader.reports.feedback import write_feedback
            write_feedback(course, record)
        except OSError:
            pass
        updated.append(record)
    return updated


# -- CSV ------------------------------------------------------------------------------------
def export_csv(gradebook: Gradebook, module: str) -> str:
    """Every item waiting for a manual grade or already graded by hand, one per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    grades = load_grades(gradebook, module)
    for result in stored_results(gradebook, module).values():
        for item in result.items:
            notebook = item.notebook or result.notebook
            grade = grades.get((result.student, notebook, item.id))
            if item.status != "manual" and grade is None:
                continue
            writer.writerow([result.student, module, notebook, item.id,
                             "" if grade is None or grade.score is None else f"{grade.score:g}",
                             grade.comment if grade else ""])
    return buffer.getvalue()


def read_csv(path: Path) -> tuple[list[Grade], list[tuple[int, str]]]:
    """Grades from a CSV, and (line, FILE:LINE error)s; rows with no score and no
    comment are skipped (what `grader manual export` leaves blank)."""
    errors: list[tuple[int, str]] = []
    grades: list[Grade] = []
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [(0, f"{path}: cannot read: {exc}")]
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [(1, f"{path}:1: missing column(s) {', '.join(missing)} "
                        f"(expected {','.join(CSV_COLUMNS)})")]
    for row in reader:
        line = reader.line_num
        values = {c: (row.get(c) or "").strip() for c in CSV_COLUMNS}
        if not values["score"] and not values["comment"]:
            continue
        empty = [c for c in ("student", "assignment", "notebook", "item") if not values[c]]
        if empty:
            errors.append((line, f"{path}:{line}: empty {', '.join(empty)}"))
            continue
        if not values["score"]:
            errors.append((line, f"{path}:{line}: a comment without a score"))
            continue
        try:
            score = float(values["score"])
        except ValueError:
            errors.append((line, f"{path}:{line}: score {values['score']!r} is not a number"))
            continue
        # graded_at carries the CSV line until the grades are saved
        grades.append(Grade(values["student"], values["assignment"], values["notebook"],
                            values["item"], score, values["comment"],
                            reason=values["comment"], graded_at=str(line)))
    return grades, errors


def import_csv(course: Course, gradebook: Gradebook, path: Path) -> tuple[int, list[str]]:
    """(number of grades imported, FILE:LINE errors); with any error nothing is imported."""
    grades, located = read_csv(path)
    results = stored_results(gradebook)
    seen: dict[tuple[str, str, str, str], str] = {}
    for grade in grades:
        line = grade.graded_at
        key = (grade.student, grade.module, grade.notebook, grade.item)
        if key in seen:
            located.append((int(line), f"{path}:{line}: {grade.student} {grade.item} is graded "
                                       f"twice (first on line {seen[key]})"))
            continue
        seen[key] = line
        try:
            graded_item(results.get((grade.student, grade.module)), grade)
        except ManualGradeError as exc:
            located.append((int(line), f"{path}:{line}: {exc}"))
    errors = [message for _, message in sorted(located)]
    if errors:
        return 0, errors
    save_grades(course, gradebook, [Grade(**{**g.__dict__, "graded_at": ""}) for g in grades])
    return len(grades), []
