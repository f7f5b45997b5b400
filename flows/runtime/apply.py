"""Carrying out the engine's decisions for one complaint, in one transaction.

Obligations are upserted, violations and outbox rows inserted under their deterministic keys, so
running this twice (a retry, a crash and restart, two workers) records nothing twice.
"""

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.records.decisions import record_violation
from flows.records.events import load_events
from flows.registry import Pinned
from flows.runtime.assembly import Runtime
from flows.runtime.email_context import obligation_key, template_context
from flows.runtime.outbox import error_text
from models.decisions import Decisions, Notification, NotificationKind, Obligation
from models.events import ComplaintReceived, Event, Reopened, Resolved
from models.tables import ComplaintRow, ObligationRow, OutboxRow, ViolationRow
from notifiers.errors import NotifierError
from notifiers.outbound.templates import RenderedEmail
from policies.engine.decide import decide


def process_complaint(runtime: Runtime, complaint_id: str) -> datetime | None:
    """Decide and record everything due for the complaint now; return when to look again."""
    now = runtime.clock.now()
    with runtime.sessions.begin() as session:
        complaint = session.get(ComplaintRow, complaint_id, with_for_update=True)
        if complaint is None:
            return None
        events, last_seq = load_events(session, complaint_id)
        pinned = runtime.registry.pinned(session, complaint.policy_version, complaint.org_hash)
        decisions = decide(pinned.policy, pinned.org, events, now)
        _record_obligations(session, complaint_id, decisions, now)
        _record_violations(session, complaint_id, decisions, pinned, now)
        _enqueue(session, runtime, pinned, events, decisions=decisions, now=now)
        complaint.wake_at = decisions.wake_at
        complaint.processed_seq = last_seq
        complaint.status = _status(events)
    return decisions.wake_at


def _status(events: list[Event]) -> str:
    last = next((e for e in reversed(events) if isinstance(e, Resolved | Reopened)), None)
    return "resolved" if isinstance(last, Resolved) else "open"


def _record_obligations(session: Session, complaint_id: str, decisions: Decisions, now: datetime) -> None:
    stored = {
        row.key: row
        for row in session.scalars(select(ObligationRow).where(ObligationRow.complaint_id == complaint_id))
    }
    for ob in decisions.obligations:
        row = stored.get(ob.key)
        if row is None:
            session.add(
                ObligationRow(
                    key=ob.key,
                    complaint_id=complaint_id,
                    step=ob.step,
                    occurrence=ob.occurrence,
                    actor=ob.actor,
                    started_at=ob.started_at,
                    due_at=ob.due_at,
                    status=ob.status.value,
                    done_at=ob.done_at,
                    updated_at=now,
                )
            )
        elif (row.status, row.done_at, row.due_at) != (ob.status.value, ob.done_at, ob.due_at):
            row.status, row.done_at, row.due_at, row.updated_at = ob.status.value, ob.done_at, ob.due_at, now


def _record_violations(
    session: Session, complaint_id: str, decisions: Decisions, pinned: Pinned, now: datetime
) -> None:
    known = set(session.scalars(select(ViolationRow.key).where(ViolationRow.complaint_id == complaint_id)))
    for violation in decisions.violations:
        if violation.key in known:
            continue
        row = ViolationRow(
            key=violation.key,
            complaint_id=complaint_id,
            step=violation.step,
            occurrence=violation.occurrence,
            actor=violation.actor,
            due_at=violation.due_at,
            detected_at=now,
            penalty=violation.penalty,
            policy_version=pinned.policy.version,
            status="recorded",
        )
        session.add(row)
        record_violation(session, row)


def _to_send(decisions: Decisions) -> list[Notification]:
    """Everything due, except reminders superseded by a later one (after downtime, send one, not ten)."""
    latest: dict[str, Notification] = {}
    chosen: list[Notification] = []
    for notification in decisions.notifications:
        if notification.kind is NotificationKind.REMINDER:
            latest[obligation_key(notification)] = notification  # sorted by time: the last one wins
        else:
            chosen.append(notification)
    return chosen + list(latest.values())


def _enqueue(
    session: Session,
    runtime: Runtime,
    pinned: Pinned,
    events: list[Event],
    *,
    decisions: Decisions,
    now: datetime,
) -> None:
    received = next(e for e in events if isinstance(e, ComplaintReceived))
    complaint_id = received.complaint
    queued = set(session.scalars(select(OutboxRow.key).where(OutboxRow.complaint_id == complaint_id)))
    obligations = {o.key: o for o in decisions.obligations}
    for notification in _to_send(decisions):
        for recipient in notification.to:
            key = f"{notification.key}/{recipient}"
            if key in queued:
                continue
            row = _outbox_row(
                session,
                runtime,
                pinned,
                received,
                notification=notification,
                obligation=obligations.get(obligation_key(notification)),
                recipient=recipient,
                now=now,
            )
            if row is not None:
                row.key = key
                session.add(row)


def _outbox_row(
    session: Session,
    runtime: Runtime,
    pinned: Pinned,
    received: ComplaintReceived,
    *,
    notification: Notification,
    obligation: Obligation | None,
    recipient: str,
    now: datetime,
) -> OutboxRow | None:
    address, language = _address(pinned, received, recipient)
    if address is None:
        return None  # an anonymous complainant gets no receipt; nothing to queue
    action_url = None
    if notification.kind in {NotificationKind.REQUEST, NotificationKind.REMINDER} and notification.step:
        action_url = runtime.links.issue(
            session, complaint=received.complaint, step=notification.step, person=recipient, now=now
        )
    context = template_context(
        policy=pinned.policy,
        org=pinned.org,
        received=received,
        notification=notification,
        obligation=obligation,
        recipient=recipient,
        action_url=action_url,
    )
    status, error = "pending", None
    try:
        chosen = runtime.templates.pick_language(notification.template, language, pinned.policy.language)
        rendered = runtime.templates.render(notification.template, chosen, context)
    except NotifierError as exc:
        # A broken or missing template must not undo the decision it belongs to (the violation is
        # still recorded); the row stays visible as failed, with the reason, for an administrator.
        status, error = "failed", error_text(exc)
        rendered = RenderedEmail(f"[{notification.template}]", "", "")
    return OutboxRow(
        key="",
        complaint_id=received.complaint,
        notification_key=notification.key,
        kind=notification.kind.value,
        step=notification.step,
        recipient=recipient,
        to_address=address,
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        message_id=_message_id(f"{notification.key}/{recipient}"),
        status=status,
        last_error=error,
        next_attempt_at=now,
        created_at=now,
    )


def _message_id(key: str) -> str:
    """Stable per outbox row: a copy re-sent after a crash carries the same id and can be dropped."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@complaintflow>"


def _address(pinned: Pinned, received: ComplaintReceived, recipient: str) -> tuple[str | None, str]:
    if recipient == "complainant":
        return received.complainant.email, received.complainant.language or pinned.policy.language
    person = pinned.org.person(recipient)
    if person is None:
        return None, pinned.policy.language
    return person.email, person.language
