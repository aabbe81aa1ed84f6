"""The same gradebook against a real PostgreSQL server (see postgres_server.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import text

from grader.course import Student
from grader.gradebook import open_gradebook
from support.training_samples import MODULE, class_results, training_result

pytestmark = pytest.mark.postgres


def test_postgres_round_trip(postgres_url: str) -> None:
    records = class_results()
    with open_gradebook(postgres_url) as gradebook:
        assert gradebook.engine.dialect.name == "postgresql"
        with gradebook.engine.begin() as conn:          # clean slate within the session's database
            conn.execute(text("TRUNCATE item_results, submissions, items, modules, students, runs CASCADE"))
        for record in records:
            gradebook.record(record)
        gradebook.record(training_result("bob", "partial"))   # re-record: replaces
        assert gradebook.records() == sorted(records, key=lambda r: (r["module"], r["student"]))
        with gradebook.engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM submissions")).scalar_one() == 4
            assert conn.execute(text("SELECT count(*) FROM item_results")).scalar_one() == 16
            tz = conn.execute(text("SELECT submitted_at FROM submissions WHERE student_id='carol'")).scalar_one()
            assert tz.isoformat() == "2026-11-11T12:00:00"   # stored as UTC
        gradebook.sync_roster([Student("alice", "Alice Adams", "alice@example.edu")])
        assert [s["id"] for s in gradebook.students() if s["on_roster"]] == ["alice"]
        run = gradebook.start_run(module=MODULE, command="pytest")
        gradebook.finish_run(run, n_graded=4, n_failed=1)
        assert gradebook.runs()[-1].n_failed == 1
    # a second connection (new engine) sees the committed data
    with open_gradebook(postgres_url) as again:
        assert [r.student for r in again.results(MODULE)] == ["alice", "bob", "carol", "mallory"]
