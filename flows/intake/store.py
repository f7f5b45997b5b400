"""Accepting a complaint: store it and its ``complaint_received`` event in one transaction.

Once this returns, the complaint is durable; whatever happens to Prefect or SMTP afterwards, the
scheduler will process it. Callers answer 2xx only after it returns.

The received time is always the server's. Times staff supply (when the complaint was heard, when the
incident occurred) start deadlines that end in penalties, so intake bounds them (``IntakeWindow``):
a little ahead of the server's clock for skew between devices, and not older than a configured window.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from flows.clock import Clock
from flows.records.events import append_event
from flows.registry import PolicyRegistry
from models.complaint import Attachment, Channel
from models.db import next_complaint_id
from models.events import ComplaintDetails, ComplaintReceived
from models.tables import AttachmentRow, ComplaintRow

NewComplaint = ComplaintDetails
STAFF_TIMES = ("heard_at", "occurred_at")  # the fields an IntakeWindow bounds
# What a complainant cannot know, or could use to start someone else's deadlines: who heard it and
# when (R1's chain and its penalties), when it happened, the triage fields. Only staff set them.
STAFF_ONLY_FIELDS = ("heard_by", *STAFF_TIMES, "severity", "complexity", "department")
# A complainant reaches us by the web form or API themself; email arrives only through IMAP intake.
PUBLIC_CHANNELS = frozenset({Channel.WEB})


def staff_only(new: NewComplaint) -> list[str]:
    """The fields of ``new`` that only a staff account may set (``channel`` first if it is one)."""
    fields = [name for name in STAFF_ONLY_FIELDS if getattr(new, name) is not None]
    return (["channel"] if new.channel not in PUBLIC_CHANNELS else []) + fields


@dataclass(frozen=True)
class IntakeWindow:
    """How far from the server's clock a time staff supply may lie (settings ``intake_*``)."""

    future_skew: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(days=30)

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """The earliest and latest time accepted at ``now`` (both inclusive)."""
        return now - self.max_age, now + self.future_skew

    def contains(self, moment: datetime, now: datetime) -> bool:
        earliest, latest = self.bounds(now)
        return earliest <= moment <= latest

    def outside(self, new: NewComplaint, now: datetime) -> list[str]:
        """The names of ``new``'s staff-supplied times that lie outside the window at ``now``."""
        return [
            name
            for name in STAFF_TIMES
            if (moment := getattr(new, name)) is not None and not self.contains(moment, now)
        ]


def accept_complaint(
    sessions: sessionmaker[Session],
    registry: PolicyRegistry,
    clock: Clock,
    new: NewComplaint,
    attachments: Sequence[Attachment] = (),
    *,
    recorded_by: str | None = None,
) -> str:
    """Store the complaint (and its files) under the active policy; return its id (``2026-000123``).

    ``recorded_by`` is the account that entered it (staff form, API token), kept in the event."""
    now: datetime = clock.now()
    with sessions.begin() as session:
        return store_complaint(session, registry, new, now, attachments, recorded_by=recorded_by)


def store_complaint(
    session: Session,
    registry: PolicyRegistry,
    new: NewComplaint,
    now: datetime,
    attachments: Sequence[Attachment] = (),
    *,
    recorded_by: str | None = None,
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
    received = ComplaintReceived(complaint=complaint_id, at=now, recorded_by=recorded_by, **new.model_dump())
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
