"""The evidence file of one violation: everything an auditor needs to rule on it, read from storage.

The complaint's events in log order (facts only: who did what to whom, never the complaint's text,
the complainant's contact details or free-text notes), every email queued for it with when it was
sent, the obligation's segments, what fulfilled it (or that nothing did), the penalty and its period,
and the auditors' earlier rulings. Times stay UTC here; pages show them in the policy's zone.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.audit.penalties import PenaltyTerm, penalty_term
from flows.records.decisions import DecisionKind
from flows.registry import Pinned, PolicyRegistry
from models.tables import ComplaintRow, DecisionLogRow, EventRow, ObligationRow, OutboxRow, ViolationRow


@dataclass(frozen=True)
class EventFact:
    seq: int
    at: datetime
    type: str
    by: str | None = None  # who did it: the first hearer, the person who did the step, the handler
    to: str | None = None
    step: str | None = None
    detail: str | None = None  # the channel received through, or the new classification
    recorded_by: str | None = None  # the account that entered it: a step for someone else, staff intake


@dataclass(frozen=True)
class EmailFact:
    kind: str
    step: str | None
    recipient: str
    subject: str
    status: str
    queued_at: datetime
    sent_at: datetime | None
    concerns_violation: bool  # a request, reminder or escalation for the missed occurrence


@dataclass(frozen=True)
class SegmentFact:
    """Who owed the step when; a handover (R16) splits one occurrence into several segments."""

    actor: str
    started_at: datetime
    due_at: datetime
    status: str
    done_at: datetime | None


@dataclass(frozen=True)
class Fulfilment:
    done: EventFact | None  # the step_done that closed the obligation, if it was done at all
    late_by: timedelta | None


@dataclass(frozen=True)
class RulingFact:
    seq: int
    at: datetime
    auditor: str
    previous: str
    status: str
    reason: str


@dataclass(frozen=True)
class Evidence:
    violation: ViolationRow  # detached: read-only
    complaint: ComplaintRow
    pinned: Pinned  # the policy and org the complaint ran under: titles, names, time zone
    events: tuple[EventFact, ...]
    emails: tuple[EmailFact, ...]
    segments: tuple[SegmentFact, ...]
    fulfilment: Fulfilment
    term: PenaltyTerm | None
    rulings: tuple[RulingFact, ...]


def evidence(session: Session, registry: PolicyRegistry, key: str) -> Evidence | None:
    violation = session.get(ViolationRow, key)
    if violation is None:
        return None
    complaint = session.get(ComplaintRow, violation.complaint_id)
    if complaint is None:
        return None
    pinned = registry.pinned(session, violation.policy_version, complaint.org_hash)
    rows = session.scalars(
        select(EventRow).where(EventRow.complaint_id == complaint.id).order_by(EventRow.seq)
    )
    events = tuple(_event(row) for row in rows)
    segments = _segments(session, violation)
    owed = next((s for s in segments if s.due_at == violation.due_at and s.actor == violation.actor), None)
    found = Evidence(
        violation=violation,
        complaint=complaint,
        pinned=pinned,
        events=events,
        emails=_emails(session, violation),
        segments=segments,
        fulfilment=_fulfilment(violation, owed, events),
        term=penalty_term(pinned.policy, violation.penalty, violation.due_at, violation.status),
        rulings=rulings(session, key),
    )
    session.expunge(violation)  # handed out as read-only facts
    session.expunge(complaint)
    return found


def _event(row: EventRow) -> EventFact:
    # Only routing facts: the complaint's text, contact details and notes stay out of the evidence.
    payload = json.loads(row.payload)
    by = payload.get("by") or payload.get("heard_by") or payload.get("handler")
    detail = payload.get("channel")
    if row.type == "classified":
        parts = ("category", "severity", "complexity", "department")
        detail = ", ".join(f"{p}={payload[p]}" for p in parts if payload.get(p))
    to, step, recorded_by = payload.get("to"), payload.get("step"), payload.get("recorded_by")
    return EventFact(row.seq, row.at, row.type, by, to, step, detail, recorded_by)


def _segments(session: Session, violation: ViolationRow) -> tuple[SegmentFact, ...]:
    rows = session.scalars(
        select(ObligationRow)
        .where(
            ObligationRow.complaint_id == violation.complaint_id,
            ObligationRow.step == violation.step,
            ObligationRow.occurrence == violation.occurrence,
        )
        .order_by(ObligationRow.started_at, ObligationRow.key)
    )
    return tuple(SegmentFact(o.actor, o.started_at, o.due_at, o.status, o.done_at) for o in rows)


def _emails(session: Session, violation: ViolationRow) -> tuple[EmailFact, ...]:
    occurrence = f"{violation.complaint_id}/{violation.step}/{violation.occurrence}/"
    rows = session.scalars(
        select(OutboxRow)
        .where(OutboxRow.complaint_id == violation.complaint_id)
        .order_by(OutboxRow.created_at, OutboxRow.key)
    )
    return tuple(
        EmailFact(
            kind=m.kind,
            step=m.step,
            recipient=m.recipient,
            subject=m.subject,
            status=m.status,
            queued_at=m.created_at,
            sent_at=m.sent_at,
            concerns_violation=m.notification_key.startswith(occurrence),
        )
        for m in rows
    )


def _fulfilment(
    violation: ViolationRow, owed: SegmentFact | None, events: tuple[EventFact, ...]
) -> Fulfilment:
    done_at = owed.done_at if owed else None
    if done_at is None:
        return Fulfilment(None, None)
    done = next(
        (e for e in events if e.type == "step_done" and e.step == violation.step and e.at == done_at), None
    )
    return Fulfilment(done, done_at - violation.due_at)


_RULINGS = (DecisionKind.VIOLATION_CONFIRMED, DecisionKind.VIOLATION_DISPUTED, DecisionKind.VIOLATION_WAIVED)


def rulings(session: Session, key: str) -> tuple[RulingFact, ...]:
    """The auditors' rulings on one violation, oldest first, as the decision log holds them."""
    rows = session.scalars(
        select(DecisionLogRow)
        .where(DecisionLogRow.subject == key, DecisionLogRow.kind.in_([k.value for k in _RULINGS]))
        .order_by(DecisionLogRow.seq)
    )
    found = []
    for row in rows:
        payload = json.loads(row.payload)
        found.append(
            RulingFact(row.seq, row.at, row.actor, payload.get("previous", ""), payload.get("status", ""),
                       payload.get("reason", ""))
        )  # fmt: skip
    return tuple(found)


@dataclass(frozen=True)
class Moment:
    """One line of the merged timeline: an event, an email, the due time, the detection or a ruling."""

    at: datetime
    what: str  # "event", "email", "due", "detected" or "ruling"
    fact: EventFact | EmailFact | RulingFact | None = None


_RANK = {"event": 0, "email": 1, "due": 2, "detected": 3, "ruling": 4}


def timeline(found: Evidence) -> list[Moment]:
    """Everything in time order (ties: events, then emails, the due time, detection, rulings)."""
    moments = [Moment(e.at, "event", e) for e in found.events]
    moments += [Moment(m.sent_at or m.queued_at, "email", m) for m in found.emails]
    moments += [Moment(found.violation.due_at, "due"), Moment(found.violation.detected_at, "detected")]
    moments += [Moment(r.at, "ruling", r) for r in found.rulings]
    return sorted(moments, key=lambda m: (m.at, _RANK[m.what]))
