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

import csv
import io
import json
import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Float, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from grader.course import Course, now_utc
from grader.errors import GraderError
from grader.extensions import due_for
from grader.files import write_atomic
from grader.gradebook.models import Base, UTCDateTime
from grader.gradebook.store import Gradebook
from grader.late import apply_penalty, assess_late, parse_timestamp
from grader.result import Result

CSV_COLUMNS = ("student", "assignment", "notebook", "item", "score", "comment")


class ManualGradeError(GraderError):
    """A manual grade cannot be stored (unknown item, score out of range, ...)."""


class ManualGrade(Base):
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


def _ensure_table(gradebook: Gradebook) -> None:
    ManualGrade.__table__.create(gradebook.engine, checkfirst=True)


def load_grades(gradebook: Gradebook, module: str, student: str | None = None
                ) -> dict[tuple[str, str, str], Grade]:
    """(student, notebook, item) -> Grade for one module."""
    _ensure_table(gradebook)
    query = select(ManualGrade).where(ManualGrade.module_id == module)
    if student is not None:
        query = query.where(ManualGrade.student_id == student)
    with Session(gradebook.engine) as session:
        return {(g.student_id, g.notebook, g.item_id): Grade(
            g.student_id, g.module_id, g.notebook, g.item_id, g.score, g.comment or "",
            g.reason or "", g.answer_digest or "", g.graded_at.isoformat() if g.graded_at else "")
            for g in session.scalars(query)}


# -- applying grades to a result record ---------------------------------------------------
def item_digest(result: dict[str, Any], item: dict[str, Any]) -> str:
    """What a manual grade of this item is tied to: the answer cell (manual items) or the
    whole notebook (an overridden autograded item)."""
    if item.get("answer_digest"):
        return str(item["answer_digest"])
    notebook = item.get("notebook") or result.get("notebook") or ""
    for part in result.get("notebooks") or []:
        if part.get("notebook") == notebook and part.get("submission_digest"):
            return str(part["submission_digest"])
    return str(result.get("submission_digest") or "")


def _status_for(score: float, points: float) -> str:
    if points <= 0 or score >= points:
        return "passed"
    return "partial" if score > 0 else "failed"


def _late_fraction(course: Course | None, result: dict[str, Any]) -> float:
    if course is None or not result.get("submitted_at"):
        return 0.0
    try:
        course.module(result["module"])
    except GraderError:
        return 0.0
    # the student's due date: an extension (course/extensions.csv) moves it; a broken
    # extensions.csv is an error here too, never a silently dropped penalty
    due = due_for(course, result["module"], result["student"])
    return assess_late(course.late, due, parse_timestamp(str(result["submitted_at"]))
                       ).penalty_fraction


def apply_manual(result: dict[str, Any], grades: dict[tuple[str, str, str], Grade],
                 course: Course | None = None) -> dict[str, Any]:
    """The record with the manual grades applied (a new dict; idempotent)."""
    result = json.loads(json.dumps(result))
    student = result["student"]
    for item in result.get("items", []):
        if "auto" in item:           # start again from the autograded verdict
            item.update(item.pop("auto"))
        item.pop("manual", None)
        notebook = item.get("notebook") or result.get("notebook") or ""
        grade = grades.get((student, notebook, item["id"]))
        if grade is None or grade.score is None:
            continue
        item["auto"] = {"score": item["score"], "status": item["status"],
                        "message": item.get("message", "")}
        stale = bool(grade.answer_digest) and grade.answer_digest != item_digest(result, item)
        item["manual"] = {"score": grade.score, "comment": grade.comment, "reason": grade.reason,
                          "graded_at": grade.graded_at, "stale": stale,
                          "auto_score": item["score"]}
        if stale:
            item["status"] = "manual"
            item["message"] = (f"the answer changed since it was graded ({grade.score:g}/"
                               f"{item['points']:g}): grade it again")
            continue
        item["score"] = float(grade.score)
        item["status"] = _status_for(grade.score, float(item["points"]))
        if item.get("kind") == "manual":
            item["message"] = "graded by hand"
        else:
            item["message"] = (f"score set by hand ({grade.reason}); autograded "
                               f"{item['auto']['score']:g}")
    raw = round(sum(float(i["score"]) for i in result.get("items", [])), 4)
    if result.get("status") == "graded":
        fraction = _late_fraction(course, result)
        result["score"], result["late_penalty"] = apply_penalty(
            raw, float(result.get("max_score") or 0.0), fraction)
    for part in result.get("notebooks") or []:
        mine = [i for i in result.get("items", []) if i.get("notebook") == part["notebook"]]
        part["score"] = round(sum(float(i["score"]) for i in mine), 4)
        part["needs_manual_grading"] = sum(1 for i in mine if i["status"] == "manual")
    return result


def apply_stored(course: Course, gradebook: Gradebook | None, result: Result) -> Result:
    """A freshly autograded record with the gradebook's manual grades applied."""
    if gradebook is None:
        return result
    grades = load_grades(gradebook, result.module, result.student)
    return Result.from_json(apply_manual(result.to_json(), grades, course)) if grades else result


# -- entering grades ----------------------------------------------------------------------
def check_grade(result: dict[str, Any] | None, grade: Grade) -> dict[str, Any]:
    """The item a grade is for; ManualGradeError says what is wrong with it."""
    if result is None:
        raise ManualGradeError(f"no graded submission of {grade.student} for {grade.module}")
    item = next((i for i in result.get("items", [])
                 if i["id"] == grade.item and (i.get("notebook") or result.get("notebook"))
                 == grade.notebook), None)
    if item is None:
        names = sorted({str(i.get("notebook") or result.get("notebook")) for i in result["items"]})
        raise ManualGradeError(f"{grade.module} has no item {grade.item!r} in notebook "
                               f"{grade.notebook!r} (notebooks: {', '.join(names)})")
    if grade.score is not None:
        points = float(item["points"])
        if not math.isfinite(grade.score) or not 0 <= grade.score <= points:
            raise ManualGradeError(f"score {grade.score:g} is out of range for {grade.item!r}: "
                                   f"0 to {points:g}")
        auto = item.get("auto", item)
        if item.get("kind") != "manual" and not grade.reason.strip():
            raise ManualGradeError(f"{grade.item!r} is autograded ({auto['score']:g}/{points:g}): "
                                   "overriding it needs a reason")
    return item


def save_grades(course: Course, gradebook: Gradebook, grades: list[Grade]) -> list[dict[str, Any]]:
    """Store grades (all or none), re-apply them to the stored results and rewrite each
    affected result.json and feedback page. Returns the updated result records."""
    _ensure_table(gradebook)
    results = {(r["student"], r["module"]): r for r in gradebook.results()}
    checked = []
    for grade in grades:
        item = check_grade(results.get((grade.student, grade.module)), grade)
        checked.append((grade, item_digest(results[(grade.student, grade.module)], item)))
    moment = now_utc()

    def work(session: Session) -> None:
        for grade, digest in checked:
            row = session.scalar(select(ManualGrade).where(
                ManualGrade.student_id == grade.student, ManualGrade.module_id == grade.module,
                ManualGrade.notebook == grade.notebook, ManualGrade.item_id == grade.item))
            if row is None:
                row = ManualGrade(student_id=grade.student, module_id=grade.module,
                                  notebook=grade.notebook, item_id=grade.item)
                session.add(row)
            row.score, row.comment, row.reason = grade.score, grade.comment, grade.reason
            row.answer_digest, row.graded_at = digest, moment

    gradebook._transact(work)
    updated = []
    for student, module in dict.fromkeys((g.student, g.module) for g, _ in checked):
        record = apply_manual(results[(student, module)], load_grades(gradebook, module, student),
                              course)
        gradebook.record(record)
        path = course.autograded_dir / student / module / "result.json"
        if path.parent.is_dir():
            write_atomic(path, json.dumps(record, indent=1))
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
    for result in gradebook.results(module):
        for item in result.get("items", []):
            notebook = item.get("notebook") or result.get("notebook") or ""
            grade = grades.get((result["student"], notebook, item["id"]))
            if item.get("status") != "manual" and grade is None:
                continue
            writer.writerow([result["student"], module, notebook, item["id"],
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
    results = {(r["student"], r["module"]): r for r in gradebook.results()}
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
            check_grade(results.get((grade.student, grade.module)), grade)
        except ManualGradeError as exc:
            located.append((int(line), f"{path}:{line}: {exc}"))
    errors = [message for _, message in sorted(located)]
    if errors:
        return 0, errors
    save_grades(course, gradebook, [Grade(**{**g.__dict__, "graded_at": ""}) for g in grades])
    return len(grades), []
