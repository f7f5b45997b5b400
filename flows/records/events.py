"""The append-only, hash-chained event log: the single record every decision is derived from.

Each row carries the hash of the previous row (in ``seq`` order, across all complaints), so editing,
deleting or reordering a row breaks the chain at that row. The hash is an HMAC-SHA256 under the audit
key (``flows.records.keys``), which is kept outside the database: whoever can edit the database but
does not hold the key cannot recompute the hashes after an edit. Appending also marks the complaint due
(``wake_at = now``) so the scheduler runs it promptly.
"""

import hashlib
import hmac
import json
from datetime import datetime

from pydantic import TypeAdapter
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from flows.errors import RuntimeProblem
from flows.records import keys as audit_keys
from models.events import Event
from models.tables import ComplaintRow, EventRow

_EVENT: TypeAdapter[Event] = TypeAdapter(Event)
GENESIS = "0" * 64
_CHAIN_LOCK = 0x636F6D70  # PostgreSQL advisory lock id guarding the chain head ("comp")


def event_content(row: EventRow) -> bytes:
    """The canonical bytes a row's hash covers: its content and its predecessor's hash."""
    content = {
        "seq": row.seq,
        "complaint": row.complaint_id,
        "type": row.type,
        "at": row.at.isoformat(),
        "payload": json.loads(row.payload),
        "prev": row.prev_hash,
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(row: EventRow, key: bytes) -> str:
    """HMAC-SHA256 of the row's content under the audit key; what `audit verify` recomputes."""
    return hmac.new(key, event_content(row), hashlib.sha256).hexdigest()


def append_event(
    session: Session, event: Event, now: datetime, complaint: ComplaintRow | None = None
) -> EventRow:
    """Append one event in the caller's transaction and mark its complaint due now.

    ``complaint`` is the complaint's row when the caller already holds it locked (intake, which has
    just inserted it); otherwise it is read and locked here.
    """
    if complaint is None:
        complaint = session.get(ComplaintRow, event.complaint, with_for_update=True)
    if complaint is None:
        raise RuntimeProblem(f"unknown complaint {event.complaint!r}")
    seq, previous = _next_link(session)
    row = EventRow(
        seq=seq,
        complaint_id=event.complaint,
        type=event.type,
        at=event.at,
        payload=event.model_dump_json(),
        recorded_at=now,
        prev_hash=previous or GENESIS,
        hash="",
    )
    row.hash = event_hash(row, audit_keys.installed().chain)
    session.add(row)
    complaint.wake_at = now
    return row


def _next_link(session: Session) -> tuple[int, str | None]:
    """The seq the new row takes and the hash of the row before it, with the chain held until commit.

    The seq is taken from the table's own counter (PostgreSQL's sequence, SQLite's AUTOINCREMENT
    high-water mark), never reused even after the newest rows were deleted, and known before the
    insert: the row is written once, hash included, instead of inserted and then updated.
    """
    session.flush()  # an event appended earlier in this transaction must be the one read as last
    if session.get_bind().dialect.name == "postgresql":
        # A statement of its own: the next one's snapshot must include the previous holder's commit.
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _CHAIN_LOCK})
        following = "nextval(pg_get_serial_sequence('events', 'seq'))"
    else:
        # SQLite: the transaction holds the database's write lock since BEGIN IMMEDIATE.
        following = "coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0) + 1"
    query = f"SELECT {following}, (SELECT hash FROM events ORDER BY seq DESC LIMIT 1)"  # noqa: S608 - constants
    seq, previous = session.execute(text(query)).one()
    return int(seq), previous


def load_events(session: Session, complaint_id: str) -> tuple[list[Event], int]:
    """A complaint's events in log order, and the last seq seen."""
    rows = session.scalars(
        select(EventRow).where(EventRow.complaint_id == complaint_id).order_by(EventRow.seq)
    ).all()
    return [_EVENT.validate_json(r.payload) for r in rows], (rows[-1].seq if rows else 0)
