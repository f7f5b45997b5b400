"""The append-only, hash-chained event log: the single record every decision is derived from.

Each row carries the hash of the previous row (in ``seq`` order, across all complaints), so editing,
deleting or reordering a row breaks the chain at that row. Appending also marks the complaint due
(``wake_at = now``) so the scheduler runs it promptly.
"""

import hashlib
import json
from datetime import datetime

from pydantic import TypeAdapter
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from flows.errors import RuntimeProblem
from models.events import Event
from models.tables import ComplaintRow, EventRow

_EVENT: TypeAdapter[Event] = TypeAdapter(Event)
GENESIS = "0" * 64
_CHAIN_LOCK = 0x636F6D70  # PostgreSQL advisory lock id guarding the chain head ("comp")


def event_hash(row: EventRow) -> str:
    """Hash of a row's content and its predecessor's hash; what `audit verify` recomputes."""
    content = {
        "seq": row.seq,
        "complaint": row.complaint_id,
        "type": row.type,
        "at": row.at.isoformat(),
        "payload": json.loads(row.payload),
        "prev": row.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _CHAIN_LOCK})
    last = session.scalars(select(EventRow).order_by(EventRow.seq.desc()).limit(1)).first()
    row = EventRow(
        complaint_id=event.complaint,
        type=event.type,
        at=event.at,
        payload=event.model_dump_json(),
        recorded_at=now,
        prev_hash=last.hash if last is not None else GENESIS,
        hash="",
    )
    session.add(row)
    session.flush()  # assigns seq, which the hash covers
    row.hash = event_hash(row)
    complaint.wake_at = now
    return row


def load_events(session: Session, complaint_id: str) -> tuple[list[Event], int]:
    """A complaint's events in log order, and the last seq seen."""
    rows = session.scalars(
        select(EventRow).where(EventRow.complaint_id == complaint_id).order_by(EventRow.seq)
    ).all()
    return [_EVENT.validate_json(r.payload) for r in rows], (rows[-1].seq if rows else 0)
