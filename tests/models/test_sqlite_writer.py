"""SQLite's in-process writer queue (models.db): every way a transaction can end lets the next one in,
and concurrent writers from many threads all succeed."""

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from models.db import make_engine, make_sessions, migrate, next_complaint_id
from tests.concurrency import run_together


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'writers.db'}"
    migrate(url)
    return make_engine(url)


def _next_writer_gets_in(engine: Engine) -> bool:
    """Whether a transaction in another thread gets through within 5 s (the queue waits 30 s)."""
    done = threading.Event()

    def write() -> None:
        with make_sessions(engine).begin() as session:
            next_complaint_id(session, 2026)
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done.wait(5)


def test_commit_rollback_and_an_abandoned_session_each_free_the_writer(engine: Engine) -> None:
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        next_complaint_id(session, 2026)
    assert _next_writer_gets_in(engine)

    def fail_mid_transaction() -> None:
        with sessions.begin() as session:
            next_complaint_id(session, 2026)
            raise RuntimeError("the caller fails mid-transaction")

    with pytest.raises(RuntimeError):
        fail_mid_transaction()
    assert _next_writer_gets_in(engine)

    session = sessions()
    session.execute(text("SELECT 1"))  # begins, then is closed without commit or rollback
    session.close()
    assert _next_writer_gets_in(engine)

    connection = engine.connect()
    connection.execute(text("SELECT 1"))
    connection.invalidate()  # a broken connection thrown away mid-transaction
    assert _next_writer_gets_in(engine)


def test_many_threads_writing_at_once_all_succeed_with_distinct_ids(engine: Engine) -> None:
    sessions = make_sessions(engine)
    ids: list[str] = []

    def allocate() -> None:
        for _ in range(25):
            with sessions.begin() as session:
                ids.append(next_complaint_id(session, 2026))

    assert run_together(allocate, 8) == []
    assert sorted(ids) == [f"2026-{n:06d}" for n in range(1, 201)]
