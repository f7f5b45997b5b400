"""Reading the timeline and violations out of storage for the JSON API."""

import json
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.web.api.models import Timeline, TimelineEmail, TimelineEvent, TimelineObligation, Violation
from models.tables import ComplaintRow, EventRow, ObligationRow, OutboxRow, ViolationRow


def timeline(session: Session, complaint: ComplaintRow) -> Timeline:
    cid = complaint.id
    events = session.scalars(select(EventRow).where(EventRow.complaint_id == cid).order_by(EventRow.seq))
    obligations = session.scalars(
        select(ObligationRow)
        .where(ObligationRow.complaint_id == cid)
        .order_by(ObligationRow.due_at, ObligationRow.key)
    )
    violations = session.scalars(
        select(ViolationRow)
        .where(ViolationRow.complaint_id == cid)
        .order_by(ViolationRow.detected_at, ViolationRow.key)
    )
    emails = session.scalars(
        select(OutboxRow).where(OutboxRow.complaint_id == cid).order_by(OutboxRow.created_at, OutboxRow.key)
    )
    return Timeline(
        complaint=cid,
        channel=complaint.channel,
        status=complaint.status,
        received_at=complaint.received_at,
        events=[_event(row) for row in events],
        obligations=[
            TimelineObligation(
                step=o.step,
                occurrence=o.occurrence,
                actor=o.actor,
                due_at=o.due_at,
                status=o.status,
                done_at=o.done_at,
            )
            for o in obligations
        ],
        violations=[violation(v) for v in violations],
        emails=[
            TimelineEmail(kind=m.kind, step=m.step, recipient=m.recipient, status=m.status, sent_at=m.sent_at)
            for m in emails
        ],
    )


def _event(row: EventRow) -> TimelineEvent:
    if row.type != "step_done":
        return TimelineEvent(seq=row.seq, type=row.type, at=row.at)
    # Only the routing facts of the payload: its note is free text and stays out of the API.
    payload = json.loads(row.payload)
    return TimelineEvent(
        seq=row.seq, type=row.type, at=row.at, step=payload["step"], by=payload["by"], to=payload.get("to")
    )


def violation(row: ViolationRow) -> Violation:
    return Violation(
        key=row.key,
        complaint=row.complaint_id,
        step=row.step,
        occurrence=row.occurrence,
        actor=row.actor,
        due_at=row.due_at,
        detected_at=row.detected_at,
        penalty=row.penalty,
        status=row.status,
    )


def violations(
    session: Session,
    *,
    step: str | None,
    actor: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    after: ViolationRow | None,
) -> list[ViolationRow]:
    """Violations by (detected_at, key), the page after ``after``; one extra row tells if more follow."""
    query = select(ViolationRow)
    if step is not None:
        query = query.where(ViolationRow.step == step)
    if actor is not None:
        query = query.where(ViolationRow.actor == actor)
    if since is not None:
        query = query.where(ViolationRow.detected_at >= since)
    if until is not None:
        query = query.where(ViolationRow.detected_at < until)
    if after is not None:
        query = query.where(
            or_(
                ViolationRow.detected_at > after.detected_at,
                and_(ViolationRow.detected_at == after.detected_at, ViolationRow.key > after.key),
            )
        )
    query = query.order_by(ViolationRow.detected_at, ViolationRow.key).limit(limit + 1)
    return list(session.scalars(query))
