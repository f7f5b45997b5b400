"""Connecting to the database: engines, sessions, Alembic migrations and complaint id allocation.

SQLite (the embedded default) and PostgreSQL (for scale) behave alike through here:

- SQLite connections get WAL, enforced foreign keys, a 30 s busy timeout and ``synchronous=NORMAL``.
  Each transaction starts with ``BEGIN IMMEDIATE``: it takes SQLite's single write lock up front, so
  transactions are serialised (waiting up to the busy timeout) instead of failing with "database is
  locked" when a transaction that has read tries to write, and SAVEPOINTs work
  (``session.begin_nested()``), which pysqlite's own transaction handling breaks.
- PostgreSQL runs at READ COMMITTED: lock what you read-modify-write (``SELECT ... FOR UPDATE``, or
  a conditional ``UPDATE ... WHERE status = ...`` checking the row count).
"""

import sqlite3
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool, StaticPool

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_HOLDS_WRITER = "complaintflow_holds_writer_lock"
_LOCAL_WAIT = 30.0  # seconds; as SQLite's busy timeout
_MIGRATION_LOCK = 0x6D696772  # PostgreSQL advisory lock id held while migrating ("migr")
# Written out rather than built with each dialect's insert().on_conflict_do_update(): that construct
# is compiled anew on every call (a quarter of a millisecond, on the intake path), and both dialects
# accept this text as it is.
_ALLOCATE = text(
    "INSERT INTO complaint_sequences (year, last) VALUES (:year, 1) "
    "ON CONFLICT (year) DO UPDATE SET last = complaint_sequences.last + 1 RETURNING last"
)

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",  # readers never block the writer, nor the writer readers
    "PRAGMA foreign_keys=ON",  # off by default in SQLite, per connection
    "PRAGMA busy_timeout=30000",  # wait for the write lock instead of failing at once
    "PRAGMA synchronous=NORMAL",  # durable across process crashes under WAL; fsyncs at checkpoints only
)


def make_engine(url: str) -> Engine:
    """An engine for ``sqlite:///path``, ``sqlite://`` (in memory) or ``postgresql+psycopg://...``.

    Parameters are hidden from SQLAlchemy's error messages: they carry complaint text and contact
    details, and errors end up in logs.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    # pre_ping: a database restart must cost one reconnect, not a failed flow run.
    return create_engine(parsed, pool_pre_ping=True, hide_parameters=True)


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    """A session factory; rows stay readable after commit (they are handed to code outside the session)."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    """The Alembic configuration, built in code: no alembic.ini is needed on disk.

    Also for developers adding a revision, e.g.
    ``command.revision(alembic_config("sqlite:///dev.db"), "add x", autogenerate=True)``.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Passed as an attribute rather than a main option: ConfigParser would interpolate "%" in passwords.
    config.attributes["url"] = url
    return config


def migrate(url: str) -> None:
    """Bring the database at ``url`` to the newest schema (Alembic ``upgrade head``); idempotent."""
    if _is_memory(make_url(url)):
        # Each connection to "sqlite://" is a new, empty database: migrating one would change nothing.
        raise ValueError(
            "cannot migrate an in-memory SQLite database by URL; "
            "use Base.metadata.create_all(engine) on the engine that will use it"
        )
    if make_url(url).get_backend_name() != "postgresql":
        command.upgrade(alembic_config(url), "head")  # SQLite: Alembic's transaction takes the write lock
        return
    # Workers and web apps starting together on a new database must not run the migrations twice
    # at once: the first takes this lock and migrates, the others wait, then find nothing to do.
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK})
            try:
                command.upgrade(alembic_config(url), "head")
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _MIGRATION_LOCK})
    finally:
        engine.dispose()


def next_complaint_id(session: Session, year: int) -> str:
    """Allocate the next complaint id of ``year``, e.g. "2026-000123", inside the caller's transaction.

    One atomic upsert (see ``ComplaintSequenceRow``): concurrent callers get distinct numbers, each
    holding the year's counter until it commits, so commit soon after. A rollback frees the number.
    """
    if not 1 <= year <= 9999:  # noqa: PLR2004 (the four-digit year of the id format)
        raise ValueError(f"year {year} does not fit the YYYY-NNNNNN complaint id format")
    dialect = session.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"complaint id allocation is not implemented for {dialect}")
    number = session.execute(_ALLOCATE, {"year": year}).scalar_one()
    return f"{year:04d}-{number:06d}"


def _is_memory(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and (
        url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"
    )


def _sqlite_engine(url: URL) -> Engine:
    if _is_memory(url):
        # One shared connection: otherwise every pooled connection would be a different empty database.
        engine = create_engine(
            url, poolclass=StaticPool, connect_args={"check_same_thread": False}, hide_parameters=True
        )
    else:
        engine = create_engine(url, hide_parameters=True)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Driver-level autocommit: pysqlite stops issuing its own BEGINs; "begin" below issues ours.
        dbapi_connection.isolation_level = None
        for pragma in _SQLITE_PRAGMAS:
            dbapi_connection.execute(pragma)

    _serialise_in_process(engine)
    return engine


def _serialise_in_process(engine: Engine) -> None:
    """Queue this process's transactions on a lock before ``BEGIN IMMEDIATE``.

    SQLite's busy handler polls a held lock by sleeping up to 100 ms at a time, so threads of one
    process (the web app's pool, the scheduler's) that race for the write lock wait far longer than
    the few milliseconds a transaction holds it: at 4 concurrent submissions p99 was ~800 ms. Waiting
    on a Python lock wakes the next transaction the moment the previous one ends. Other processes
    still meet SQLite's own lock; after ``_LOCAL_WAIT`` the transaction goes on without the local
    lock and SQLite's busy timeout decides, so a mistake here can delay but never deadlock.
    """
    writer = threading.Lock()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.info[_HOLDS_WRITER] = writer.acquire(timeout=_LOCAL_WAIT)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(connection.info)
            raise

    def _release(info: dict[Any, Any]) -> None:
        if info.pop(_HOLDS_WRITER, False):
            writer.release()

    for name in ("commit", "rollback"):
        event.listen(engine, name, lambda connection: _release(connection.info))
    # A connection returned to the pool mid-transaction is rolled back by the pool, not by a
    # Connection: release there too (the record's info is the Connection's).
    event.listen(engine, "checkin", lambda _dbapi, record: _release(record.info))
    event.listen(engine, "close", lambda _dbapi, record: _release(record.info))
