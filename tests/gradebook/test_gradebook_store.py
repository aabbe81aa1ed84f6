"""The gradebook on a real SQLite file: record, replace, round-trip, concurrent readers."""
from __future__ import annotations

import multiprocessing
import sqlite3
import time
import traceback
from pathlib import Path

import pytest
from sqlalchemy import func, select

from grader.course import Student
from grader.gradebook import open_gradebook
from grader.gradebook.models import Item, ItemResult, Submission
from grader.gradebook.store import GradebookError
from support.training_samples import MODULE, class_results, training_result


def count(gradebook, model) -> int:
    with gradebook._reader() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_record_and_round_trip(sqlite_url: str) -> None:
    records = class_results()
    with open_gradebook(sqlite_url) as gradebook:
        for record in records:
            gradebook.record(record)
        stored = gradebook.records()
        assert stored == sorted(records, key=lambda r: (r["module"], r["student"]))
        assert gradebook.records(MODULE, student="bob") == [training_result("bob", "partial")]
        assert gradebook.results(MODULE, student="bob")[0].score == training_result("bob", "partial")["score"]
        assert gradebook.results("01_tensor") == []
        assert count(gradebook, Submission) == 4
        assert count(gradebook, ItemResult) == 16
        assert count(gradebook, Item) == 4
        rows = {(r["student"], r["item_id"]): r for r in gradebook.item_results(MODULE)}
        assert rows["bob", "training-batch-size"]["status"] == "partial"
        assert rows["bob", "training-batch-size"]["score"] == pytest.approx(1.67)
        assert rows["mallory", "training-throughput"]["status"] == "crashed"
    # the file really holds it: a fresh connection, WAL mode on
    assert Path(sqlite_url.removeprefix("sqlite:///")).is_file()
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("SELECT count(*) FROM submissions").fetchone()[0] == 4


def test_rerecord_replaces_without_duplicates(sqlite_url: str) -> None:
    with open_gradebook(sqlite_url) as gradebook:
        gradebook.record(training_result("bob", "partial"))
        gradebook.record(training_result("bob", "partial"))
        regraded = training_result("bob", "full")
        regraded["items"] = regraded["items"][:3]          # an item fewer this time
        gradebook.record(regraded)
        assert gradebook.records() == [regraded]
        assert count(gradebook, Submission) == 1
        assert count(gradebook, ItemResult) == 3
        with gradebook._reader() as session:
            submission = session.scalar(select(Submission))
            assert submission.score == 40.0 and submission.status == "graded"
            assert submission.submitted_at.isoformat() == "2026-11-09T21:14:03+00:00"
    # and reopening the file keeps exactly that
    with open_gradebook(sqlite_url) as again:
        assert again.records() == [regraded]


def test_roster_runs_and_unknown_students(sqlite_url: str) -> None:
    with open_gradebook(sqlite_url) as gradebook:
        gradebook.record(training_result("mallory", "crashed"))
        gradebook.sync_roster([Student("alice", "Alice Adams", "alice@example.edu"),
                               Student("bob", "Bob Brown", "")])
        students = {s["id"]: s for s in gradebook.students()}
        assert students["alice"] == {"id": "alice", "name": "Alice Adams",
                                     "email": "alice@example.edu", "on_roster": True}
        assert students["mallory"]["on_roster"] is False
        gradebook.sync_roster([Student("bob", "Bob Brown", "")])
        assert {s["id"]: s["on_roster"] for s in gradebook.students()} == {
            "alice": False, "bob": True, "mallory": False}
        run = gradebook.start_run(MODULE, command="grader autograde 09_training")
        gradebook.finish_run(run, n_graded=3, n_failed=1)
        (info,) = gradebook.runs()
        assert (info.module, info.n_graded, info.n_failed) == (MODULE, 3, 1)
        assert info.finished_at >= info.started_at


def test_bad_records_are_rejected_and_leave_nothing(sqlite_url: str) -> None:
    with open_gradebook(sqlite_url) as gradebook:
        with pytest.raises(GradebookError, match="student"):
            gradebook.record({"module": MODULE, "status": "graded", "items": []})
        broken = training_result("alice")
        broken["score"] = "forty"
        with pytest.raises(GradebookError, match="score"):
            gradebook.record(broken)
        late = training_result("alice")
        late["submitted_at"] = "yesterday-ish"
        with pytest.raises(GradebookError, match="submitted_at"):
            gradebook.record(late)
        assert gradebook.results() == []


def test_a_batch_is_one_transaction_and_the_last_result_of_a_student_wins(sqlite_url: str) -> None:
    with open_gradebook(sqlite_url) as gradebook:
        gradebook.record(training_result("bob", "partial"))      # replaced by the batch
        gradebook.record(training_result("carol", "late"))        # not in the batch: kept
        regraded = training_result("bob", "full")
        regraded["items"] = regraded["items"][:2]
        gradebook.record_many([training_result("alice", "full"), training_result("bob", "crashed"),
                               regraded, training_result("mallory", "crashed")])
        stored = {r["student"]: r for r in gradebook.records()}
        assert stored == {"alice": training_result("alice", "full"), "bob": regraded,
                          "carol": training_result("carol", "late"),
                          "mallory": training_result("mallory", "crashed")}
        assert count(gradebook, Submission) == 4
        assert count(gradebook, ItemResult) == 4 + 2 + 4 + 4
        rows = [r for r in gradebook.item_results(MODULE) if r["student"] == "bob"]
        assert [r["item_id"] for r in rows] == [i["id"] for i in regraded["items"]]
        # one bad record in a batch: nothing of the batch is written
        broken = training_result("dave")
        broken["score"] = "forty"
        with pytest.raises(GradebookError, match="score"):
            gradebook.record_many([training_result("erin"), broken])
        assert {r.student for r in gradebook.results()} == {"alice", "bob", "carol", "mallory"}


# -- several processes at once ----------------------------------------------------
STUDENTS = [f"s{n:02d}" for n in range(8)]
VARIANTS = ["full", "partial", "late", "crashed"]


def _writer(url: str, rounds: int, errors) -> None:
    try:
        with open_gradebook(url) as gradebook:
            for n in range(rounds):
                for student in STUDENTS:
                    gradebook.record(training_result(student, VARIANTS[(n + len(student)) % 4]))
    except Exception:
        errors.put("writer: " + traceback.format_exc())


def _reader(url: str, stop, reads, errors) -> None:
    try:
        done = 0
        with open_gradebook(url) as gradebook:
            while not stop.is_set() or done < 3:
                records = gradebook.results(MODULE)
                for record in records:
                    assert record.module == MODULE and len(record.items) == 4, record
                assert len({r.student for r in records}) == len(records)
                done += 1
                time.sleep(0.02)
        reads.put(done)
    except Exception:
        errors.put("reader: " + traceback.format_exc())


def test_readers_and_writer_in_parallel_processes(sqlite_url: str) -> None:
    open_gradebook(sqlite_url).close()          # create the schema before the race
    ctx = multiprocessing.get_context("spawn")
    stop, errors, reads = ctx.Event(), ctx.Queue(), ctx.Queue()
    writers = [ctx.Process(target=_writer, args=(sqlite_url, 3, errors)) for _ in range(2)]
    readers = [ctx.Process(target=_reader, args=(sqlite_url, stop, reads, errors)) for _ in range(2)]
    for process in readers + writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
    stop.set()
    for process in readers:
        process.join(timeout=60)
    problems = []
    while not errors.empty():
        problems.append(errors.get())
    assert not problems, "\n".join(problems)
    assert all(p.exitcode == 0 for p in readers + writers), [p.exitcode for p in readers + writers]
    assert sum(reads.get(timeout=5) for _ in readers) >= 6
    with open_gradebook(sqlite_url) as gradebook:
        assert sorted(r.student for r in gradebook.results()) == STUDENTS
        assert count(gradebook, ItemResult) == 4 * len(STUDENTS)
