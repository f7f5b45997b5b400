"""The pure core: ``decide(policy, org, events, now) -> Decisions``.

No I/O and no clock: the caller passes ``now``. Every record carries a deterministic key
(complaint/step/occurrence/actor[/kind/n]) so applying the same decisions twice creates nothing twice.
The Prefect runtime and ``simulate`` both call this function; it is the only home of policy semantics.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from models.decisions import (
    Decisions,
    Notification,
    NotificationKind,
    Obligation,
    ObligationStatus,
    Violation,
)
from models.events import Event
from models.org import Org
from models.timeutil import require_aware
from policies.engine.facts import ComplaintFacts, facts_of
from policies.engine.occurrences import Occurrence, Segment, StepPlanner
from policies.engine.resolution import COMPLAINANT, Resolver
from policies.language.compiled import CompiledPolicy


@dataclass
class _Out:
    obligations: list[Obligation]
    notifications: list[Notification]
    violations: list[Violation]
    wakes: list[datetime]


def decide(policy: CompiledPolicy, org: Org, events: Iterable[Event], now: datetime) -> Decisions:
    """Everything the policy requires of these complaints' events as of ``now``."""
    now = require_aware(now)
    by_complaint: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        if event.at <= now:
            by_complaint[event.complaint].append(event)
    out = _Out([], [], [], [])
    for complaint in sorted(by_complaint):
        facts = facts_of(by_complaint[complaint])
        if facts is not None:
            _decide_one(policy, org, facts, now, out)
    return Decisions(
        now=now,
        obligations=tuple(sorted(out.obligations, key=lambda o: (o.started_at, o.key))),
        notifications=tuple(sorted(out.notifications, key=lambda n: (n.at, n.key))),
        violations=tuple(sorted(out.violations, key=lambda v: (v.due_at, v.key))),
        wake_at=min((w for w in out.wakes if w > now), default=None),
    )


def _decide_one(policy: CompiledPolicy, org: Org, facts: ComplaintFacts, now: datetime, out: _Out) -> None:
    resolver = Resolver(policy, org, facts)
    receipt = _receipt(policy, facts)
    if receipt is not None:
        out.notifications.append(receipt)
    planner = StepPlanner(policy, facts, resolver, now)
    for occurrence in planner.plan():
        _emit(policy, resolver, occurrence, now, out)
    out.wakes.extend(planner.wakes)


def _receipt(policy: CompiledPolicy, facts: ComplaintFacts) -> Notification | None:
    received = facts.received
    if policy.receipt_template is None or not received.complainant.email:
        return None
    if policy.receipt_channels is not None and received.channel not in policy.receipt_channels:
        return None
    return Notification(
        key=f"{facts.complaint}/receipt",
        at=received.at,
        complaint=facts.complaint,
        step=None,
        to=(COMPLAINANT,),
        template=policy.receipt_template,
        kind=NotificationKind.RECEIPT,
    )


def _emit(policy: CompiledPolicy, resolver: Resolver, occ: Occurrence, now: datetime, out: _Out) -> None:
    complaint = resolver.facts.complaint
    for index, segment in enumerate(occ.segments):
        key = _key(complaint, occ, index)
        out.obligations.append(_obligation(key, complaint, occ, index, now))
        out.notifications.extend(
            _segment_notifications(policy, resolver, occ, segment, key=key, now=now, out=out)
        )
    if not occ.missed:
        return
    if occ.due > now:
        out.wakes.append(occ.due)
        return
    owner = occ.owner_at_due
    key = _key(complaint, occ, owner)
    out.violations.append(
        Violation(
            key=key,
            complaint=complaint,
            step=occ.step.id,
            occurrence=occ.number,
            actor=occ.segments[owner].party.label,
            due_at=occ.due,
            penalty=occ.step.penalty,
        )
    )
    out.notifications.extend(_escalations(policy, resolver, occ, key=key, now=now, out=out))


def _segment_notifications(
    policy: CompiledPolicy,
    resolver: Resolver,
    occ: Occurrence,
    segment: Segment,
    *,
    key: str,
    now: datetime,
    out: _Out,
) -> Iterator[Notification]:
    # Nothing can be sent before the complaint reached the system, even when the deadline counts
    # from an earlier moment (it occurred, or was heard, before it was logged).
    known = resolver.facts.received_at
    ended = _ended(occ)
    if ended is not None and ended < segment.start:
        return  # done before it started (its anchor lay ahead of the receipt): nothing to ask for
    stop = min(t for t in (segment.end, occ.due, ended) if t is not None)
    reminder = occ.step.reminder
    for n, (at, kind) in enumerate(_requests(policy, occ, segment, stop)):
        if kind is NotificationKind.REMINDER and at <= known:
            continue
        if at > now:
            out.wakes.append(at)
            return
        template = reminder.template if reminder and kind is NotificationKind.REMINDER else None
        yield Notification(
            key=f"{key}/{kind.value}/{n}",
            at=max(at, known),
            complaint=resolver.facts.complaint,
            step=occ.step.id,
            to=segment.party.people,
            template=template or occ.step.template,
            kind=kind,
        )


def _key(complaint: str, occ: Occurrence, index: int) -> str:
    """Deterministic record key; a later segment (after a handover) is numbered, since the same
    person may own an occurrence twice (handed away and back)."""
    base = f"{complaint}/{occ.step.id}/{occ.number}/{occ.segments[index].party.label}"
    return f"{base}/{index}" if index else base


def _ended(occ: Occurrence) -> datetime | None:
    times = [t for t in (occ.cancelled_at, occ.done.at if occ.done else None) if t is not None]
    return min(times, default=None)


def _requests(
    policy: CompiledPolicy, occ: Occurrence, segment: Segment, stop: datetime
) -> Iterator[tuple[datetime, NotificationKind]]:
    """The request when a segment starts, then reminders every N until done, handed over or due."""
    yield segment.start, NotificationKind.REQUEST
    reminder = occ.step.reminder
    if reminder is None:
        return
    at = segment.start
    for _ in range(reminder.max or 10_000):
        at = policy.calendar.add(at, reminder.every)
        if at >= stop:
            return
        yield at, NotificationKind.REMINDER


def _escalations(
    policy: CompiledPolicy, resolver: Resolver, occ: Occurrence, *, key: str, now: datetime, out: _Out
) -> Iterator[Notification]:
    ended = _ended(occ)
    for level, escalation in enumerate(occ.step.escalations):
        at = policy.calendar.add(occ.due, escalation.after)
        if ended is not None and ended <= at:
            continue
        if at > now:
            out.wakes.append(at)
            continue
        yield Notification(
            key=f"{key}/escalation/{level}",
            at=max(at, resolver.facts.received_at),
            complaint=resolver.facts.complaint,
            step=occ.step.id,
            to=resolver.people(escalation.targets, occ.due),
            template=escalation.template,
            kind=NotificationKind.ESCALATION,
        )


def _obligation(key: str, complaint: str, occ: Occurrence, index: int, now: datetime) -> Obligation:
    segment = occ.segments[index]
    final = segment.end is None
    done_at = occ.done.at if occ.done is not None and final else None
    status, ended = _status(occ, index, done_at, now)
    return Obligation(
        key=key,
        complaint=complaint,
        step=occ.step.id,
        occurrence=occ.number,
        actor=segment.party.label,
        actors=segment.party.people,
        targets=occ.targets,
        started_at=segment.start,
        due_at=occ.due,
        status=status,
        done_at=done_at,
        ended_at=ended,
    )


def _status(
    occ: Occurrence, index: int, done_at: datetime | None, now: datetime
) -> tuple[ObligationStatus, datetime | None]:
    segment = occ.segments[index]
    if segment.end is not None:
        # Handed over before the due time: no longer theirs. At or after it: they missed it first.
        if segment.end < occ.due or index != occ.owner_at_due or not occ.missed:
            return ObligationStatus.HANDED_OVER, segment.end
        return ObligationStatus.OVERDUE, segment.end
    if done_at is not None:
        return (ObligationStatus.MET if done_at <= occ.due else ObligationStatus.LATE), done_at
    if occ.cancelled_at is not None and occ.cancelled_at <= occ.due:
        return ObligationStatus.CANCELLED, occ.cancelled_at
    if occ.due <= now:
        return ObligationStatus.OVERDUE, None
    return ObligationStatus.OPEN, None
