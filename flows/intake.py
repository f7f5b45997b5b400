"""Accepting a complaint: store it and its ``complaint_received`` event in one transaction.

Once this returns, the complaint is durable; whatever happens to Prefect or SMTP afterwards, the
scheduler will process it. Callers answer 2xx only after it returns.
"""

import hashlib
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from flows.clock import Clock
from flows.event_log import append_event
from flows.registry import PolicyRegistry
from models.complaint import Attachment
from models.db import next_complaint_id
from models.events import ComplaintDetails, ComplaintReceived
from models.tables import AttachmentRow, ComplaintRow

NewComplaint = ComplaintDetails


def accept_complaint(
    sessions: sessionmaker[Session],
    registry: PolicyRegistry,
    clock: Clock,
    new: NewComplaint,
    attachments: Sequence[Attachment] = (),
) -> str:
    """Store the complaint (and its files) under the active policy; return its id (``2026-000123``)."""
    now: datetime = clock.now()
    with sessions.begin() as session:
        return store_complaint(session, registry, new, now, attachments)


def store_complaint(
    session: Session,
    registry: PolicyRegistry,
    new: NewComplaint,
    now: datetime,
    attachments: Sequence[Attachment] = (),
) -> str:
    """``accept_complaint`` inside the caller's transaction (email intake records the mail with it)."""
    # The latest activation in the database, not this process's memory: an administrator may have
    # activated a new version through another process.
    pinned = registry.current(session)
    # Numbered by the year where the organisation is, not by the UTC year.
    complaint_id = next_complaint_id(session, now.astimezone(pinned.policy.calendar.zone).year)
    row = ComplaintRow(
        id=complaint_id,
        seq=int(complaint_id.replace("-", "")),  # 2026-000123 -> 2026000123: unique across years
        policy_version=pinned.policy.version,
        org_hash=pinned.org_hash,
        channel=new.channel.value,
        received_at=now,
        wake_at=now,
    )
    session.add(row)
    received = ComplaintReceived(complaint=complaint_id, at=now, **new.model_dump())
    append_event(session, received, now, row)  # the new row is this transaction's alone: no lock to take
    for attachment in attachments:
        session.add(
            AttachmentRow(
                complaint_id=complaint_id,
                filename=attachment.filename,
                content_type=attachment.content_type,
                size=len(attachment.content),
                sha256=hashlib.sha256(attachment.content).hexdigest(),
                content=attachment.content,
                created_at=now,
            )
        )
    return complaint_id
