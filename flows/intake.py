"""Accepting a complaint: store it and its ``complaint_received`` event in one transaction.

Once this returns, the complaint is durable; whatever happens to Prefect or SMTP afterwards, the
scheduler will process it. Callers answer 2xx only after it returns.
"""

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from flows.clock import Clock
from flows.event_log import append_event
from flows.registry import PolicyRegistry
from models.db import next_complaint_id
from models.events import ComplaintDetails, ComplaintReceived
from models.tables import ComplaintRow

NewComplaint = ComplaintDetails


def accept_complaint(
    sessions: sessionmaker[Session], registry: PolicyRegistry, clock: Clock, new: NewComplaint
) -> str:
    """Store the complaint under the active policy; return its id (e.g. ``2026-000123``)."""
    now: datetime = clock.now()
    with sessions.begin() as session:
        return store_complaint(session, registry, new, now)


def store_complaint(session: Session, registry: PolicyRegistry, new: NewComplaint, now: datetime) -> str:
    """``accept_complaint`` inside the caller's transaction (email intake records the mail with it)."""
    pinned = registry.active
    if pinned is None:
        raise RuntimeError("no active policy: call PolicyRegistry.activate first")
    # Numbered by the year where the organisation is, not by the UTC year.
    complaint_id = next_complaint_id(session, now.astimezone(pinned.policy.calendar.zone).year)
    session.add(
        ComplaintRow(
            id=complaint_id,
            seq=int(complaint_id.replace("-", "")),  # 2026-000123 -> 2026000123: unique across years
            policy_version=pinned.policy.version,
            org_hash=pinned.org_hash,
            channel=new.channel.value,
            received_at=now,
            wake_at=now,
        )
    )
    session.flush()
    received = ComplaintReceived(complaint=complaint_id, at=now, **new.model_dump())
    append_event(session, received, now)
    return complaint_id
