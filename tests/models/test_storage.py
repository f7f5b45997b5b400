"""The storage layer on SQLite and PostgreSQL: schema, times, ordering, keys, indexes and complaint ids."""

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from models.db import make_engine, make_sessions, migrate, next_complaint_id
from models.errors import ModelError
from models.tables import (
    Base,
    ComplaintRow,
    EventRow,
    ObligationRow,
    OrgSnapshotRow,
    OutboxRow,
    PolicyVersionRow,
    ViolationRow,
)

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
T0 = datetime(2026, 4, 1, 9, 0, 0, 123456, tzinfo=TOKYO)  # +09:00
DUE_INDEX = "ix_obligations_status_due_at"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessions(engine)


def _add_complaint(session: Session, complaint_id: str = "2026-000001", seq: int = 1) -> None:
    """A complaint with the policy version and org snapshot its foreign keys need."""
    if session.get(PolicyVersionRow, "v1") is None:
        session.add(PolicyVersionRow(version="v1", policy_id="clinic", name="Clinic", document="{}"))
        session.add(OrgSnapshotRow(hash="h1", org_id="org", document="{}"))
        session.flush()
    session.add(
        ComplaintRow(
            id=complaint_id, seq=seq, policy_version="v1", org_hash="h1", channel="web", received_at=T0
        )
    )
    session.flush()


def _obligation(key: str, due_at: datetime, status: str = "open") -> ObligationRow:
    return ObligationRow(
        key=key,
        complaint_id="2026-000001",
        step="report",
        occurrence=1,
        actor="amy",
        started_at=T0,
        due_at=due_at,
        status=status,
    )


def _violation(key: str) -> ViolationRow:
    return ViolationRow(
        key=key,
        complaint_id="2026-000001",
        step="report",
        occurrence=1,
        actor="amy",
        due_at=T0,
        detected_at=T0 + timedelta(seconds=1),
        penalty="warning",
        policy_version="v1",
    )


def _outbox(key: str) -> OutboxRow:
    return OutboxRow(
        key=key,
        complaint_id="2026-000001",
        notification_key=f"n:{key}",
        kind="request",
        step="report",
        recipient="amy",
        to_address="amy@x.example",
        subject="Please report",
        text_body="text",
        html_body="<p>html</p>",
        message_id=f"<{key}@complaintflow>",
        next_attempt_at=T0,
    )


def _event(complaint_id: str, kind: str) -> EventRow:
    return EventRow(
        complaint_id=complaint_id,
        type=kind,
        at=T0,
        payload=f'{{"type": "{kind}"}}',
        recorded_at=T0,
        prev_hash="",
        hash=kind,
    )


def test_migrations_build_exactly_the_schema_of_the_tables(database_url: str, engine: Engine) -> None:
    migrate(database_url)  # a second upgrade is a no-op
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_server_default": True})
        assert compare_metadata(context, Base.metadata) == []
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0004"


def test_aware_times_come_back_equal_and_in_utc(engine: Engine, sessions: sessionmaker[Session]) -> None:
    wake = datetime(2026, 4, 1, 8, 30, tzinfo=NEW_YORK)
    with sessions.begin() as session:
        _add_complaint(session)
        session.get_one(ComplaintRow, "2026-000001").wake_at = wake
    with sessions() as session:
        if engine.dialect.name == "postgresql":
            # PostgreSQL answers in the session's time zone: the column type must still hand back UTC.
            session.execute(text("SET TIME ZONE 'Asia/Tokyo'"))
        row = session.get_one(ComplaintRow, "2026-000001")
    assert (row.received_at, row.wake_at) == (T0, wake)
    assert row.received_at.tzinfo is UTC
    assert row.wake_at is not None
    assert row.wake_at.tzinfo is UTC
    assert row.received_at.hour == 0  # 09:00 +09:00


def test_times_are_utc_from_assignment_on() -> None:
    """Fresh rows already hold what a reload gives: hashes over them match hashes over stored rows."""
    row = _obligation("o1", datetime(2026, 4, 1, 18, tzinfo=TOKYO))
    assert row.due_at == datetime(2026, 4, 1, 9, tzinfo=UTC)
    assert row.due_at.tzinfo is UTC


def test_naive_times_are_rejected(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(ModelError, match="naive datetime"):
        _obligation("o1", datetime(2026, 4, 1, 10))
    with sessions() as session, pytest.raises(StatementError, match="naive datetime") as raised:
        session.scalars(select(ObligationRow).where(ObligationRow.due_at <= datetime(2026, 4, 1))).all()
    assert isinstance(raised.value.orig, ModelError)


def test_sqlite_stores_utc_in_a_fixed_width_text_form(tmp_path: Path) -> None:
    """SQLite compares these strings: they must all be UTC and equally long to sort like the instants."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    migrate(url)
    engine = make_engine(url)
    with make_sessions(engine).begin() as session:
        _add_complaint(session)
        raw = session.execute(text("SELECT received_at FROM complaints")).scalar_one()
    engine.dispose()
    assert raw == "2026-04-01 00:00:00.123456"


def test_events_keep_insertion_order_by_seq(sessions: sessionmaker[Session]) -> None:
    inserted = [
        [("2026-000001", "complaint_received"), ("2026-000002", "complaint_received")],
        [("2026-000001", "classified"), ("2026-000002", "assigned"), ("2026-000001", "step_done")],
        [("2026-000002", "resolved")],
    ]
    with sessions.begin() as session:
        _add_complaint(session, "2026-000001", 1)
        _add_complaint(session, "2026-000002", 2)
    for batch in inserted:
        with sessions.begin() as session:
            for complaint_id, kind in batch:
                session.add(_event(complaint_id, kind))
                session.flush()  # one INSERT per event, in this order
    with sessions() as session:
        events = session.scalars(select(EventRow).order_by(EventRow.seq)).all()
    assert [(event.complaint_id, event.type) for event in events] == [pair for b in inserted for pair in b]
    seqs = [event.seq for event in events]
    assert seqs == sorted(set(seqs))


KEYED_ROWS: dict[str, Callable[[], Base]] = {
    "obligation": lambda: _obligation("k1", T0),
    "violation": lambda: _violation("k1"),
    "outbox": lambda: _outbox("k1"),
}


@pytest.mark.parametrize("make_row", KEYED_ROWS.values(), ids=KEYED_ROWS.keys())
def test_a_second_row_with_the_same_key_is_rejected(
    sessions: sessionmaker[Session], make_row: Callable[[], Base]
) -> None:
    with sessions.begin() as session:
        _add_complaint(session)
        session.add(make_row())
    with sessions() as session:
        session.add(make_row())
        with pytest.raises(IntegrityError):
            session.commit()


def test_a_duplicate_in_a_savepoint_leaves_the_transaction_usable(sessions: sessionmaker[Session]) -> None:
    """The idempotent-insert pattern callers use: try each keyed row in a SAVEPOINT, keep the rest."""
    with sessions.begin() as session:
        _add_complaint(session)
        session.add(_violation("v-1"))
    with sessions.begin() as session:
        session.add(_event("2026-000001", "step_done"))
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(_violation("v-1"))
        with session.begin_nested():
            session.add(_violation("v-2"))
    with sessions() as session:
        assert session.scalars(select(ViolationRow.key).order_by(ViolationRow.key)).all() == ["v-1", "v-2"]
        assert session.scalars(select(EventRow.type)).all() == ["step_done"]


def test_due_open_obligations_are_found_in_due_order_through_their_index(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    now = datetime(2026, 4, 1, 12, tzinfo=TOKYO)
    with sessions.begin() as session:
        _add_complaint(session)
        session.add_all(
            [
                _obligation("late", datetime(2026, 3, 31, 22, 0, tzinfo=NEW_YORK)),  # 12:00 Tokyo: due now
                _obligation("early", datetime(2026, 4, 1, 1, 0, tzinfo=UTC)),  # 10:00 Tokyo
                _obligation("future", now + timedelta(microseconds=1)),
                _obligation("done", now - timedelta(hours=1), status="met"),
            ]
        )
    due = (
        select(ObligationRow)
        .where(ObligationRow.status == "open", ObligationRow.due_at <= now)
        .order_by(ObligationRow.due_at)
    )
    with sessions() as session:
        assert [row.key for row in session.scalars(due)] == ["early", "late"]

    sql = str(due.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            plan = [row[-1] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]
            assert any(DUE_INDEX in step for step in plan), plan
            assert not any("TEMP B-TREE" in step for step in plan), plan  # the index gives the order too
        else:
            connection.exec_driver_sql("SET enable_seqscan = off")  # tiny tables: ask whether it can
            plan = [row[0] for row in connection.exec_driver_sql(f"EXPLAIN {sql}")]
            assert any(f"Index Scan using {DUE_INDEX}" in step for step in plan), plan


def test_complaint_ids_count_up_per_year(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = [next_complaint_id(session, 2026), next_complaint_id(session, 2026)]
        first.append(next_complaint_id(session, 2027))
    with sessions() as session:
        next_complaint_id(session, 2026)
        session.rollback()  # gives its number back: ids have no gaps
    with sessions.begin() as session:
        first.append(next_complaint_id(session, 2026))
    assert first == ["2026-000001", "2026-000002", "2027-000001", "2026-000003"]


def test_concurrent_allocations_get_distinct_ids(sessions: sessionmaker[Session]) -> None:
    workers = 20
    barrier = threading.Barrier(workers)  # before any connection is taken: the pool holds only 15

    def allocate() -> str:
        barrier.wait(timeout=30)
        with sessions.begin() as session:
            return next_complaint_id(session, 2026)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        ids = list(pool.map(lambda _: allocate(), range(workers)))
    assert sorted(ids) == [f"2026-{n:06d}" for n in range(1, workers + 1)]


def test_foreign_keys_are_enforced(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        session.add(_event("2026-999999", "complaint_received"))
        with pytest.raises(IntegrityError):
            session.commit()


def test_sqlite_connections_are_configured(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with engine.connect() as connection:
        pragmas = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
    engine.dispose()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 30000, "synchronous": 1}


def test_an_in_memory_sqlite_database_is_shared_by_sessions_and_threads() -> None:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        _add_complaint(session)

    def count() -> int:
        with sessions() as session:
            return len(session.scalars(select(ComplaintRow)).all())

    with ThreadPoolExecutor(max_workers=1) as pool:
        assert pool.submit(count).result() == 1
    engine.dispose()
    with pytest.raises(ValueError, match="in-memory"):
        migrate("sqlite://")
