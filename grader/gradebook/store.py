"""Open a gradebook and read or write result records.

Any SQLAlchemy URL works (`sqlite:///grader.db`, `postgresql+psycopg://...`).
For SQLite the database runs in WAL mode with a busy timeout, and writes take the
write lock up front (BEGIN IMMEDIATE), so readers in other processes (a dashboard
being built, `grader status`) never fail while autograde records results.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, delete, event, insert, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from grader.course import now_utc
from grader.errors import ConfigError, GraderError
from grader.gradebook.models import Base, Item, ItemResult, Module, Run, Student, Submission
from grader.late import TimestampError, parse_timestamp
from grader.result import Result, ResultFormatError

SQLITE_BUSY_TIMEOUT_S = 30.0
WRITE_ATTEMPTS = 4


class GradebookError(GraderError):
    """A result record cannot be stored (missing keys, wrong types)."""


@dataclass(frozen=True)
class RunInfo:
    id: int
    started_at: datetime
    finished_at: datetime | None
    module: str | None
    n_graded: int
    n_failed: int
    command: str


def _sqlite_engine(url: str, *, read_only: bool = False) -> Engine:
    parsed = make_url(url)
    memory = parsed.database in (None, "", ":memory:")
    if not memory and not read_only:
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False},
        **({"poolclass": StaticPool} if memory else {}))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not memory and not read_only:
            cursor.execute("PRAGMA journal_mode=WAL")  # a write to the file: not when reading
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _moment(value: Any, what: str) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value
    try:
        return parse_timestamp(str(value))
    except TimestampError as exc:
        raise GradebookError(f"{what}: {exc}") from None


def _rows_of(result: Result | dict[str, Any]) -> tuple[Result, dict[str, Any], list[dict[str, Any]]]:
    """(typed result, submission columns, item result rows) of one record, checked."""
    if isinstance(result, Result):
        typed, data = result, result.to_json()
    else:
        for key in ("student", "module", "status"):
            if not isinstance(result.get(key), str) or not result[key]:
                raise GradebookError(f"result record needs a non-empty string {key!r}")
        try:
            typed, data = Result.from_json(result), result
        except ResultFormatError as exc:
            raise GradebookError(f"not a result record: {exc}") from None
        except (KeyError, TypeError, AttributeError) as exc:
            raise GradebookError(f"not a result record: {type(exc).__name__}: {exc}") from None
    if not typed.student:
        raise GradebookError("result record needs a non-empty string 'student'")
    fields = dict(
        status=typed.status, score=float(typed.score), max_score=float(typed.max_score),
        late_penalty=float(typed.late_penalty), days_late=float(typed.days_late or 0.0),
        submitted_at=_moment(typed.submitted_at, "submitted_at"), graded_at=now_utc(),
        duration_s=float(typed.duration_s), submission_digest=typed.submission_digest,
        source_digest=typed.source_digest,
        result_json=json.dumps(data, ensure_ascii=False, default=str),
    )
    # several notebooks may reuse a grade_id: their items are NOTEBOOK_STEM/ID here
    several = len(typed.notebooks or []) > 1
    item_rows = [dict(item_id=(f"{(i.notebook or '').removesuffix('.ipynb')}/{i.id}"
                               if several else i.id), kind=i.kind, points=float(i.points),
                      score=float(i.score or 0.0), status=i.status, message=i.message)
                 for i in typed.items]
    return typed, fields, item_rows


class Gradebook:
    """A gradebook database. Use `open_gradebook(url)` to get one."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=True)
        self._sqlite = engine.dialect.name == "sqlite"
        self._reader = sessionmaker(engine, expire_on_commit=False)
        writer_engine = engine.execution_options(sqlite_begin="IMMEDIATE") if self._sqlite else engine
        self._writer = sessionmaker(writer_engine, expire_on_commit=False)

    # -- lifecycle -------------------------------------------------------------
    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _transact(self, work: Callable[[Session], Any]) -> Any:
        """Run `work` in one write transaction; retried if a concurrent writer raced us."""
        last: Exception | None = None
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self._writer() as session, session.begin():
                    return work(session)
            except (IntegrityError, OperationalError) as exc:
                last = exc
                time.sleep(0.05 * attempt)
        assert last is not None
        raise last

    # -- writing ---------------------------------------------------------------
    def record(self, result: Result | dict[str, Any]) -> None:
        """Store one result (a Result or result.json's object): `record_many([result])`."""
        self.record_many([result])

    def record_many(self, results: Iterable[Result | dict[str, Any]]) -> None:
        """Store results, each replacing its student's previous result on its module, all
        in one transaction: a reader sees the old results or the new ones, never a mix.
        A record that is not result.json's shape is refused (GradebookError naming the
        field) and nothing is written. (autograde writes a batch's results at once: one
        transaction per submission cost more than the rows it wrote.)"""
        latest = {(typed.student, typed.module): (typed, fields, item_rows)   # last one wins
                  for typed, fields, item_rows in map(_rows_of, results)}
        if not latest:
            return

        def work(session: Session) -> None:
            student_ids = {student for student, _ in latest}
            module_ids = {module for _, module in latest}
            students = set(session.scalars(select(Student.id).where(Student.id.in_(student_ids))))
            modules = {m.id: m for m in session.scalars(
                select(Module).where(Module.id.in_(module_ids)))}
            items = {(i.module_id, i.item_id): i for i in session.scalars(
                select(Item).where(Item.module_id.in_(module_ids)))}
            submissions = {(s.student_id, s.module_id): s for s in session.scalars(
                select(Submission).where(Submission.student_id.in_(student_ids),
                                         Submission.module_id.in_(module_ids)))
                if (s.student_id, s.module_id) in latest}
            if submissions:   # the replaced item results, in one statement
                session.execute(delete(ItemResult).where(ItemResult.submission_id.in_(
                    [s.id for s in submissions.values()])))
            for (student, module_id), (typed, fields, item_rows) in latest.items():
                if student not in students:
                    students.add(student)
                    session.add(Student(id=student, name="", email="", on_roster=False))
                module = modules.get(module_id)
                if module is None:
                    module = modules[module_id] = Module(id=module_id, title=module_id,
                                                         max_score=0.0)
                    session.add(module)
                if fields["max_score"]:
                    module.max_score = fields["max_score"]
                for row in item_rows:
                    item = items.get((module_id, row["item_id"]))
                    if item is None:
                        items[(module_id, row["item_id"])] = item = Item(
                            module_id=module_id, item_id=row["item_id"], kind=row["kind"],
                            points=row["points"])
                        session.add(item)
                    else:
                        item.kind, item.points = row["kind"], row["points"]
                submission = submissions.get((student, module_id))
                if submission is None:
                    submission = submissions[(student, module_id)] = Submission(
                        student_id=student, module_id=module_id)
                    session.add(submission)
                for name, value in fields.items():
                    setattr(submission, name, value)
            session.flush()   # new submissions get their ids
            new_rows = [dict(submission_id=submissions[key].id, position=n, **row)
                        for key, (_, _, item_rows) in latest.items()
                        for n, row in enumerate(item_rows)]
            if new_rows:
                session.execute(insert(ItemResult), new_rows)
            for submission in submissions.values():   # loaded later, the rows just written
                session.expire(submission, ["item_results"])

        self._transact(work)

    def sync_roster(self, students: Iterable[Any]) -> None:
        """Mark exactly these students (objects with id, name, email) as on the roster."""
        given = {s.id: s for s in students}

        def work(session: Session) -> None:
            for student in session.scalars(select(Student)):
                if student.id in given:
                    new = given.pop(student.id)
                    student.name, student.email, student.on_roster = new.name, new.email, True
                else:
                    student.on_roster = False
            for new in given.values():
                session.add(Student(id=new.id, name=new.name, email=new.email, on_roster=True))

        self._transact(work)

    def sync_modules(self, modules: Iterable[Any]) -> None:
        """Give modules (objects with id and title, e.g. course.modules) their titles."""
        wanted = {m.id: m.title for m in modules}

        def work(session: Session) -> None:
            for module_id, title in wanted.items():
                module = session.get(Module, module_id)
                if module is None:
                    session.add(Module(id=module_id, title=title, max_score=0.0))
                else:
                    module.title = title

        self._transact(work)

    def remove(self, student: str, module: str) -> bool:
        """Delete the result of `student` on `module` (with its item results); False if none."""
        def work(session: Session) -> bool:
            found = session.scalars(select(Submission).where(
                Submission.student_id == student, Submission.module_id == module)).first()
            if found is None:
                return False
            session.delete(found)
            return True

        return self._transact(work)

    def start_run(self, module: str | None = None, *, command: str = "") -> int:
        """Note the start of an autograde run; returns its id for finish_run."""
        def work(session: Session) -> int:
            run = Run(started_at=now_utc(), module=module, command=command)
            session.add(run)
            session.flush()
            return run.id

        return self._transact(work)

    def finish_run(self, run_id: int, *, n_graded: int, n_failed: int) -> None:
        def work(session: Session) -> None:
            run = session.get(Run, run_id)
            if run is None:
                raise GradebookError(f"no run {run_id} in the gradebook")
            run.finished_at, run.n_graded, run.n_failed = now_utc(), n_graded, n_failed

        self._transact(work)

    # -- reading ---------------------------------------------------------------
    def results(self, module: str | None = None, *, student: str | None = None) -> list[Result]:
        """The stored results, by module then student."""
        return [Result.from_json(record) for record in self.records(module, student=student)]

    def records(self, module: str | None = None, *, student: str | None = None
                ) -> list[dict[str, Any]]:
        """The stored results as result.json holds them (JSON objects), by module then
        student: for what hands them on as JSON (formgrade's API, exports)."""
        query = select(Submission.result_json).order_by(Submission.module_id, Submission.student_id)
        if module is not None:
            query = query.where(Submission.module_id == module)
        if student is not None:
            query = query.where(Submission.student_id == student)
        with self._reader() as session:
            return [json.loads(text) for text in session.scalars(query)]

    def students(self) -> list[dict[str, Any]]:
        with self._reader() as session:
            return [dict(id=s.id, name=s.name, email=s.email, on_roster=s.on_roster)
                    for s in session.scalars(select(Student).order_by(Student.id))]

    def runs(self) -> list[RunInfo]:
        with self._reader() as session:
            return [RunInfo(id=r.id, started_at=r.started_at, finished_at=r.finished_at,
                            module=r.module, n_graded=r.n_graded, n_failed=r.n_failed,
                            command=r.command)
                    for r in session.scalars(select(Run).order_by(Run.id))]

    def item_results(self, module: str) -> list[dict[str, Any]]:
        """Per-item rows of one module (student, item_id, kind, points, score, status, message)."""
        query = (select(Submission.student_id, ItemResult)
                 .join(ItemResult, ItemResult.submission_id == Submission.id)
                 .where(Submission.module_id == module)
                 .order_by(Submission.student_id, ItemResult.position))
        with self._reader() as session:
            return [dict(student=sid, item_id=r.item_id, kind=r.kind, points=r.points,
                         score=r.score, status=r.status, message=r.message)
                    for sid, r in session.execute(query)]


def open_gradebook(url: str | Path, *, read_only: bool = False) -> Gradebook:
    """Open (and create the tables of) the gradebook at a SQLAlchemy URL or SQLite path.

    With `read_only` (status, export, report) nothing is created: a SQLite file that
    does not exist, or a database without grader's tables, reads as an empty gradebook.
    """
    text = str(url)
    if "://" not in text:
        text = f"sqlite:///{Path(text).expanduser().resolve()}"
    try:
        parsed = make_url(text)
        backend = parsed.get_backend_name()
    except ArgumentError as exc:
        raise ConfigError(f"gradebook URL {text!r} is not a database URL ({exc})") from None
    if read_only and backend == "sqlite" and parsed.database not in (None, "", ":memory:") \
            and not Path(parsed.database).expanduser().is_file():
        return open_gradebook("sqlite://")  # nothing graded yet: an empty gradebook in memory
    try:
        engine = (_sqlite_engine(text, read_only=read_only) if backend == "sqlite"
                  else create_engine(text, pool_pre_ping=True))
    except Exception as exc:  # unknown dialect or missing driver
        raise ConfigError(f"cannot use gradebook {text!r}: {exc}") from None
    if read_only:
        try:
            tables = set(inspect(engine).get_table_names())
        except OperationalError as exc:
            engine.dispose()
            raise ConfigError(f"cannot read gradebook {parsed.render_as_string(hide_password=True)}: "
                              f"{exc.orig}") from None
        ours = set(Base.metadata.tables)
        if not ours & tables:
            engine.dispose()
            return open_gradebook("sqlite://")  # not (yet) a grader gradebook: nothing graded
        if not ours <= tables:
            engine.dispose()
            raise ConfigError(f"gradebook {parsed.render_as_string(hide_password=True)} lacks "
                              f"the table(s) {', '.join(sorted(ours - tables))}: it was made "
                              "by another grader version; `grader autograde` adds them")
        return Gradebook(engine)
    try:
        Base.metadata.create_all(engine)
    except OperationalError as exc:
        engine.dispose()
        raise ConfigError(f"cannot open gradebook {make_url(text).render_as_string(hide_password=True)}: "
                          f"{exc.orig}") from None
    return Gradebook(engine)
