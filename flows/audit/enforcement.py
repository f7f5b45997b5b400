"""Is every deadline enforced? The invariant ``audit verify`` checks on the live database.

- No obligation is past due without its violation: an obligation still open, overdue or late once
  its due time (plus the runtime's grace) has passed must have a violation row for its occurrence
  (a new owner after the due time owes it without one of their own: the violation stays with whoever
  owned it then, R16).
- No complaint owes work with nothing to wake the engine: a complaint with ``wake_at`` NULL must have
  no open obligation row and, unless resolved, nothing the engine would still start or enforce (an
  obligation open now, or a step whose anchor lies ahead, such as a heard time after the receipt).

The second check re-reads the complaint's events and asks the engine what it owes; nothing here
writes. Problems name the table and the row key, never complaint content.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session, sessionmaker

from flows.records.events import load_events
from flows.registry import Pinned, PolicyRegistry
from models.decisions import ObligationStatus
from models.events import ComplaintReceived, Event
from models.tables import ComplaintRow, ObligationRow, ViolationRow
from policies.engine.decide import decide

# A deadline passes, then the scheduler notices within a poll and records the violation: allow a
# minute on top of the poll before calling it missed.
RECORDING_MARGIN = timedelta(seconds=60)
_MISSED = ("open", "overdue", "late")
_LOOKAHEAD_LIMIT = timedelta(days=366)  # anchors further ahead than this are not looked for
DEFAULT_GRACE = timedelta(seconds=0.5) + RECORDING_MARGIN  # the default scheduler poll, 0.5 s


@dataclass(frozen=True)
class EnforcementProblem:
    table: str  # "obligations" or "complaints"
    key: str  # the row's primary key
    reason: str

    def __str__(self) -> str:
        row = "key" if self.table == "obligations" else "id"
        return f"{self.table} row {row}={self.key}: {self.reason}"


def grace_for(poll_seconds: float) -> timedelta:
    """How long after a due time its violation may still be unrecorded by a healthy runtime."""
    return timedelta(seconds=poll_seconds) + RECORDING_MARGIN


def check_enforcement(
    session: Session, now: datetime, *, grace: timedelta = DEFAULT_GRACE
) -> list[EnforcementProblem]:
    """Every obligation past due (by more than ``grace``) without its violation, and every complaint
    that owes work while its ``wake_at`` is NULL; empty when every deadline is enforced."""
    return [*_missed_without_violation(session, now - grace), *_owed_without_wake(session, now)]


def _missed_without_violation(session: Session, before: datetime) -> list[EnforcementProblem]:
    recorded = exists().where(
        and_(
            ViolationRow.complaint_id == ObligationRow.complaint_id,
            ViolationRow.step == ObligationRow.step,
            ViolationRow.occurrence == ObligationRow.occurrence,
        )
    )
    rows = session.execute(
        select(ObligationRow.key, ObligationRow.status, ObligationRow.due_at)
        .where(ObligationRow.status.in_(_MISSED), ObligationRow.due_at <= before, ~recorded)
        .order_by(ObligationRow.due_at, ObligationRow.key)
    ).all()
    return [
        EnforcementProblem("obligations", key, f"{status}, due {due.isoformat()}, and no violation recorded")
        for key, status, due in rows
    ]


def _owed_without_wake(session: Session, now: datetime) -> list[EnforcementProblem]:
    problems: list[EnforcementProblem] = []
    open_rows = session.execute(
        select(ObligationRow.complaint_id, ObligationRow.key)
        .join(ComplaintRow, ComplaintRow.id == ObligationRow.complaint_id)
        .where(ComplaintRow.wake_at.is_(None), ObligationRow.status == "open")
        .order_by(ObligationRow.complaint_id, ObligationRow.key)
    ).all()
    flagged: set[str] = set()
    for complaint_id, key in open_rows:
        if complaint_id not in flagged:
            flagged.add(complaint_id)
            problems.append(EnforcementProblem("complaints", complaint_id, f"wake_at is NULL, {key} is open"))
    registry = PolicyRegistry(sessionmaker())  # only its rebuilding of stored versions is used
    unresolved = session.execute(
        select(ComplaintRow.id, ComplaintRow.policy_version, ComplaintRow.org_hash)
        .where(ComplaintRow.wake_at.is_(None), ComplaintRow.status != "resolved")
        .order_by(ComplaintRow.id)
    ).all()
    for complaint_id, version, org in unresolved:
        if complaint_id in flagged:
            continue
        events, _ = load_events(session, complaint_id)
        owed = _owed(registry.pinned(session, version, org), [e for e in events if e.at <= now], now)
        if owed is not None:
            problems.append(EnforcementProblem("complaints", complaint_id, f"wake_at is NULL, {owed}"))
    return problems


def _owed(pinned: Pinned, events: list[Event], now: datetime) -> str | None:
    """What the engine says the complaint still owes, with no further event; None if nothing."""
    current = decide(pinned.policy, pinned.org, events, now)
    for obligation in current.obligations:
        if obligation.status is ObligationStatus.OPEN:
            return f"{obligation.key} is open (due {obligation.due_at.isoformat()})"
    later = decide(pinned.policy, pinned.org, events, _lookahead(events, now))
    for obligation in later.obligations:
        if obligation.started_at > now:
            start = obligation.started_at.isoformat()
            return f"step {obligation.step} starts at {start} (its anchor lies ahead)"
    return None


def _lookahead(events: list[Event], now: datetime) -> datetime:
    """Just past the latest heard or occurred time ahead of ``now`` (within a bound)."""
    times = [now]
    for event in events:
        if isinstance(event, ComplaintReceived):
            times += [t for t in (event.heard_at, event.occurred_at) if t is not None]
    return min(max(times), now + _LOOKAHEAD_LIMIT) + timedelta(seconds=1)
