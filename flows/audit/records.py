"""Records that are not chained, checked against the chains: complaint rows and attachment bytes.

A complaint's row is written with its ``complaint_received`` event, so each complaint id in the event
log must have its row and each row its received event: a row deleted (or inserted) directly shows.
An attachment's bytes must still hash to the sha256 stored with them; that the stored hashes are the
ones intake wrote is checked against the signed checkpoints (``flows.audit.against``), since the
received event does not carry them.
"""

import hashlib

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from models.tables import AttachmentRow, ComplaintRow, EventRow

BATCH = 20  # attachments hold up to 5 MB each: a small page keeps memory flat
_RECEIVED = "complaint_received"


def complaint_problem(session: Session) -> tuple[str, str, str] | None:
    """(table, row, what is wrong) for the first complaint whose row and events disagree, or None."""
    orphan = session.execute(
        select(EventRow.seq, EventRow.complaint_id)
        .outerjoin(ComplaintRow, ComplaintRow.id == EventRow.complaint_id)
        .where(ComplaintRow.id.is_(None))
        .order_by(EventRow.seq)
        .limit(1)
    ).first()
    if orphan is not None:
        reason = (
            f"the event log has events of complaint {orphan[1]} (seq={orphan[0]}) but the complaints"
            " table has no row for it: deleted directly"
        )
        return "complaints", f"id={orphan[1]}", reason
    unlogged = session.scalar(
        select(ComplaintRow.id)
        .where(~exists().where(EventRow.complaint_id == ComplaintRow.id, EventRow.type == _RECEIVED))
        .order_by(ComplaintRow.id)
        .limit(1)
    )
    if unlogged is not None:
        reason = (
            "no complaint_received event in the event log: inserted directly (or its events were deleted)"
        )
        return "complaints", f"id={unlogged}", reason
    return None


def attachment_problem(session: Session) -> tuple[int, tuple[str, str, str] | None]:
    """(attachments checked and found good, (table, row, what is wrong) for the first bad one, or None)."""
    checked, last = 0, 0
    while True:
        batch = session.scalars(
            select(AttachmentRow).where(AttachmentRow.id > last).order_by(AttachmentRow.id).limit(BATCH)
        ).all()
        if not batch:
            return checked, None
        for row in batch:
            actual = hashlib.sha256(row.content).hexdigest()
            if actual != row.sha256 or len(row.content) != row.size:
                reason = (
                    f"its bytes ({len(row.content)} bytes, sha256 {actual[:12]}…) are not the ones stored"
                    f" ({row.size} bytes, sha256 {row.sha256[:12]}…): the file was changed"
                )
                return checked, ("attachments", f"id={row.id} (complaint {row.complaint_id})", reason)
            checked += 1
        last = batch[-1].id
        session.expunge_all()
