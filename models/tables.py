"""The storage schema: SQLAlchemy 2 typed ORM tables for complaints, their events and what they oblige.

Every time column is a `UTCDateTime`: stored as UTC, always read back as an aware UTC datetime, on
SQLite (which has no time zones) and PostgreSQL (``timestamptz``) alike; assigning a time to a row
attribute already converts it to UTC, and a naive time raises ``ModelError``. JSON documents (policy specs,
org snapshots, event payloads) are stored as canonical JSON text, so hashes computed over them by the
caller stay reproducible byte for byte.

Keys (``ObligationRow.key``, ``ViolationRow.key``, ``OutboxRow.key``) are the engine's deterministic
keys: a second insert of the same key fails with ``IntegrityError``, which is what makes re-running a
flow or task idempotent. Schema changes go through Alembic (``models/migrations``), never ``create_all``
on a real database.
"""

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Mapper, mapped_column
from sqlalchemy.types import TypeDecorator

from models.errors import ModelError

# Deterministic constraint and index names, so migrations and `compare_metadata` agree on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime; a naive one is an error, its meaning depends on the machine."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ModelError(
            f"naive datetime {value.isoformat()} cannot be stored: pass an aware time, "
            "e.g. datetime(2026, 4, 1, 9, tzinfo=ZoneInfo('Asia/Tokyo'))"
        )
    return value.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC; naive datetimes are rejected rather than guessed at.

    SQLite keeps no offset, so values are normalised to UTC before storing and tagged UTC on the way
    back; as every stored value is UTC in the same fixed-width format, SQLite's text comparison orders
    them correctly. PostgreSQL returns ``timestamptz`` in the session's time zone: converted to UTC too.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        utc = as_utc(value)
        # SQLite's DATETIME would silently drop the offset anyway; dropping it here makes that explicit.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _utcnow() -> datetime:
    """Bookkeeping timestamps (created_at, updated_at) use the real clock; domain times come from callers."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata and the UTC datetime mapping."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


def _utc_when_set(
    _target: object, value: datetime | None, _old: object, _initiator: object
) -> datetime | None:
    return None if value is None else as_utc(value)


@event.listens_for(Base, "mapper_configured", propagate=True)
def _normalise_times_when_set(mapper: Mapper[Any], class_: type[Any]) -> None:
    """Time attributes hold UTC from assignment on, not only once reloaded: a hash the caller computes
    over a fresh row equals one recomputed from the stored row, and naive times fail where assigned."""
    for prop in mapper.column_attrs:
        if any(isinstance(column.type, UTCDateTime) for column in prop.columns):
            event.listen(getattr(class_, prop.key), "set", _utc_when_set, retval=True)


class PolicyVersionRow(Base):
    """One compiled policy as it was when complaints started under it; never changed once stored."""

    __tablename__ = "policy_versions"

    version: Mapped[str] = mapped_column(String, primary_key=True)
    policy_id: Mapped[str] = mapped_column(String)
    name: Mapped[str] = mapped_column(String)
    document: Mapped[str] = mapped_column(Text)  # canonical JSON of the policy spec
    created_at: Mapped[datetime] = mapped_column(default=_utcnow)


class OrgSnapshotRow(Base):
    """The org directory as a complaint saw it, keyed by the hash of its canonical JSON."""

    __tablename__ = "org_snapshots"

    hash: Mapped[str] = mapped_column(String, primary_key=True)
    org_id: Mapped[str] = mapped_column(String)
    document: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=_utcnow)


class ComplaintRow(Base):
    """A complaint, pinned to the policy version and org snapshot it started under."""

    __tablename__ = "complaints"

    id: Mapped[str] = mapped_column(String, primary_key=True)  # "2026-000123", from next_complaint_id
    seq: Mapped[int] = mapped_column(Integer, unique=True)  # the number part of the id
    policy_version: Mapped[str] = mapped_column(ForeignKey("policy_versions.version"))
    org_hash: Mapped[str] = mapped_column(ForeignKey("org_snapshots.hash"))
    channel: Mapped[str] = mapped_column(String)
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String, default="open", server_default="open")
    # The next time the engine must look at this complaint; NULL when nothing is pending.
    wake_at: Mapped[datetime | None] = mapped_column(index=True)
    # The last event seq the engine has processed: events with a higher seq are news to it.
    processed_seq: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime] = mapped_column(default=_utcnow)


class EventRow(Base):
    """The append-only event log; ``seq`` is the global insertion order.

    ``prev_hash``/``hash`` chain the events; the caller computes them, this table only keeps them.
    """

    __tablename__ = "events"
    # AUTOINCREMENT on SQLite: a seq is never reused, even after the newest row were deleted.
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 (SQLAlchemy's declarative protocol)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    type: Mapped[str] = mapped_column(String)
    at: Mapped[datetime]
    payload: Mapped[str] = mapped_column(Text)  # the event's JSON
    recorded_at: Mapped[datetime]
    prev_hash: Mapped[str] = mapped_column(String)
    hash: Mapped[str] = mapped_column(String)


class ObligationRow(Base):
    """The current state of one obligation; upserted by key whenever the engine decides again."""

    __tablename__ = "obligations"
    # "Find due open obligations": WHERE status = 'open' AND due_at <= now ORDER BY due_at.
    __table_args__ = (Index("ix_obligations_status_due_at", "status", "due_at"),)

    key: Mapped[str] = mapped_column(String, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    step: Mapped[str] = mapped_column(String)
    occurrence: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String)
    started_at: Mapped[datetime]
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String)
    done_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=_utcnow, onupdate=_utcnow)


class ViolationRow(Base):
    """A missed obligation, recorded once per key. ``status`` mirrors the latest auditor decision;
    the decision log (``DecisionLogRow``) holds the hash-chained record of both."""

    __tablename__ = "violations"

    key: Mapped[str] = mapped_column(String, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    step: Mapped[str] = mapped_column(String)
    occurrence: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String, index=True)
    due_at: Mapped[datetime]
    detected_at: Mapped[datetime]
    penalty: Mapped[str | None] = mapped_column(String)
    policy_version: Mapped[str] = mapped_column(ForeignKey("policy_versions.version"))
    status: Mapped[str] = mapped_column(String, default="recorded", server_default="recorded")


class OutboxRow(Base):
    """A rendered email waiting to be sent (transactional outbox): written with the decision, sent later.

    ``status`` moves pending → sending → sent, or back to pending with ``next_attempt_at`` pushed out
    (backoff) after an SMTP failure, and to failed when the sender gives up.
    """

    __tablename__ = "outbox"
    # "Find mail to send now": WHERE status = 'pending' AND next_attempt_at <= now ORDER BY next_attempt_at.
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    key: Mapped[str] = mapped_column(String, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    notification_key: Mapped[str] = mapped_column(String, index=True)
    kind: Mapped[str] = mapped_column(String)
    step: Mapped[str | None] = mapped_column(String)
    recipient: Mapped[str] = mapped_column(String)  # a person id, or "complainant"
    to_address: Mapped[str] = mapped_column(String)
    subject: Mapped[str] = mapped_column(String)
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String, index=True)  # replies are matched by it
    status: Mapped[str] = mapped_column(String, default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=_utcnow)


class ActionTokenRow(Base):
    """A signed action link's server-side half: it expires, and ``used_at`` makes it single-use."""

    __tablename__ = "action_tokens"

    token_id: Mapped[str] = mapped_column(String, primary_key=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    step: Mapped[str] = mapped_column(String)
    person: Mapped[str] = mapped_column(String)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=_utcnow)


class ComplaintSequenceRow(Base):
    """The last complaint number handed out per year; ``models.db.next_complaint_id`` allocates from it.

    Allocation is one ``INSERT ... ON CONFLICT (year) DO UPDATE SET last = last + 1 RETURNING last``:
    PostgreSQL row-locks the year's row until the allocating transaction ends (concurrent allocators
    wait, then see the new value), and SQLite serialises writers. So numbers never repeat, and a
    rolled-back transaction gives its number back (no gaps).
    """

    __tablename__ = "complaint_sequences"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class InboundMailRow(Base):
    """A message taken from an IMAP mailbox, written in the same transaction as what it caused.

    Keyed by where it was found (``mailbox`` is ``user@host/folder``; IMAP UIDs are unique within a
    folder's UIDVALIDITY): a message already here is never processed again, only marked seen. Also
    keyed by ``message_key`` (a hash of its Message-ID, or of its bytes when it has none), which only
    the first copy holds: the same mail delivered to two polled folders, or found again after the
    server renumbered a folder, is recorded as a duplicate and does nothing. No content is kept here.
    """

    __tablename__ = "inbound_mail"

    mailbox: Mapped[str] = mapped_column(String, primary_key=True)
    # IMAP UIDs and UIDVALIDITY are unsigned 32-bit: too large for PostgreSQL's INTEGER.
    uidvalidity: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    uid: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_key: Mapped[str | None] = mapped_column(String, unique=True)
    # complaint, step_done, automated, unmatched_reply, own_mail or duplicate
    outcome: Mapped[str] = mapped_column(String)
    complaint_id: Mapped[str | None] = mapped_column(ForeignKey("complaints.id"), index=True)
    received_at: Mapped[datetime | None]  # the server's INTERNALDATE
    processed_at: Mapped[datetime]


class AttachmentRow(Base):
    """A file sent with a complaint, stored with the complaint in the same transaction.

    Bytes live in the database (capped by intake at 5 MB a file, 10 MB a complaint) so a backup of
    the database is a backup of the evidence; ``sha256`` lets an auditor check a copy.
    """

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(ForeignKey("complaints.id"), index=True)
    filename: Mapped[str] = mapped_column(String)
    content_type: Mapped[str] = mapped_column(String)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class AccountRow(Base):
    """A person who signs in: an admin, an auditor or a staff member (complainants never have one)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String, unique=True)
    display_name: Mapped[str] = mapped_column(String)
    role: Mapped[str] = mapped_column(String)  # "admin", "auditor" or "staff"
    password_hash: Mapped[str] = mapped_column(String)  # argon2id, with its parameters
    person: Mapped[str | None] = mapped_column(String)  # the org person id a staff account acts as
    active: Mapped[bool] = mapped_column(default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(default=_utcnow)


class WebSessionRow(Base):
    """A signed-in browser; only a hash of its cookie's secret is stored: a leaked table signs nobody in."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class ApiTokenRow(Base):
    """A token for automation, acting with its account's role; stored as a hash, shown once at creation."""

    __tablename__ = "api_tokens"

    token_hash: Mapped[str] = mapped_column(String, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class DecisionLogRow(Base):
    """The append-only, hash-chained log of decisions: each violation as recorded, every auditor's
    confirm/dispute/waive with its reason, and every policy activation. Like the event log, each row
    carries the hash of the row before it (in ``seq`` order)."""

    __tablename__ = "decision_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(
        String
    )  # violation_recorded, violation_confirmed, ..., policy_activated
    subject: Mapped[str] = mapped_column(String, index=True)  # a violation key or a policy version
    actor: Mapped[str] = mapped_column(String)  # the account's username, or "engine"
    at: Mapped[datetime]
    payload: Mapped[str] = mapped_column(Text)  # canonical JSON: the facts decided on, the reason
    prev_hash: Mapped[str] = mapped_column(String)
    hash: Mapped[str] = mapped_column(String)


class PolicyActivationRow(Base):
    """Which policy version (with which org snapshot) new complaints start under, from when."""

    __tablename__ = "policy_activations"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(ForeignKey("policy_versions.version"))
    org_hash: Mapped[str] = mapped_column(ForeignKey("org_snapshots.hash"))
    source: Mapped[str] = mapped_column(Text)  # the policy's YAML text as uploaded, for the diff
    org_source: Mapped[str | None] = mapped_column(Text)
    activated_by: Mapped[str] = mapped_column(String)  # a username, or "configuration" at start-up
    activated_at: Mapped[datetime]
