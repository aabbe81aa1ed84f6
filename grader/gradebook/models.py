"""SQLAlchemy 2 ORM tables of the gradebook.

The full result record is kept verbatim in `Submission.result_json` (what exports
and reports read); the other columns are the queryable summary of it.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (DateTime, Float, ForeignKey, Integer, String,
                        Text, TypeDecorator, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no offset: store naive UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class Student(Base):
    __tablename__ = "students"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(400), default="")
    email: Mapped[str] = mapped_column(String(400), default="")
    on_roster: Mapped[bool] = mapped_column(default=False)

    submissions: Mapped[list[Submission]] = relationship(back_populates="student")


class Module(Base):
    __tablename__ = "modules"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    title: Mapped[str] = mapped_column(String(400), default="")
    max_score: Mapped[float] = mapped_column(Float, default=0.0)

    items: Mapped[list[Item]] = relationship(back_populates="module", cascade="all, delete-orphan")


class Item(Base):
    """A graded item of a module, as the latest graded submission described it."""

    __tablename__ = "items"

    module_id: Mapped[str] = mapped_column(ForeignKey("modules.id", ondelete="CASCADE"),
                                           primary_key=True)
    item_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    points: Mapped[float] = mapped_column(Float, default=0.0)

    module: Mapped[Module] = relationship(back_populates="items")


class Submission(Base):
    """The current result of one student on one module (re-grading replaces it)."""

    __tablename__ = "submissions"
    __table_args__ = (UniqueConstraint("student_id", "module_id", name="uq_submission_student_module"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), index=True)
    module_id: Mapped[str] = mapped_column(ForeignKey("modules.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Float, default=0.0)
    max_score: Mapped[float] = mapped_column(Float, default=0.0)
    late_penalty: Mapped[float] = mapped_column(Float, default=0.0)
    days_late: Mapped[float] = mapped_column(Float, default=0.0)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    graded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    submission_digest: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source_digest: Mapped[str | None] = mapped_column(String(200), nullable=True)
    result_json: Mapped[str] = mapped_column(Text)

    student: Mapped[Student] = relationship(back_populates="submissions")
    module: Mapped[Module] = relationship()
    item_results: Mapped[list[ItemResult]] = relationship(
        back_populates="submission", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ItemResult.position")


class ItemResult(Base):
    __tablename__ = "item_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"),
                                               index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    item_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    points: Mapped[float] = mapped_column(Float, default=0.0)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text, default="")

    submission: Mapped[Submission] = relationship(back_populates="item_results")


class Run(Base):
    """One `grader autograde` invocation."""

    __tablename__ = "runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    module: Mapped[str | None] = mapped_column(String(200), nullable=True)
    n_graded: Mapped[int] = mapped_column(Integer, default=0)
    n_failed: Mapped[int] = mapped_column(Integer, default=0)
    command: Mapped[str] = mapped_column(Text, default="")


__all__ = ["Base", "Student", "Module", "Item", "Submission", "ItemResult", "Run", "UTCDateTime"]
