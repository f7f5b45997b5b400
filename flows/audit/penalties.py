"""Which penalty a violation carries, the period it runs, and the penalties in force per person now.

The penalty comes from the policy version the violation was recorded under (never today's policy).
Its period starts on the due time's date in that policy's time zone and runs for the penalty's
``duration`` (``1年`` from 2026-04-01 runs to 2027-03-31, both days included). A penalty without a
duration has no end: it stays on the person's record. The violation's status decides whether it
runs: recorded and confirmed violations carry it, a disputed one is suspended until it is ruled on,
a waived one carries none.
"""

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.registry import PolicyRegistry
from models.tables import ComplaintRow, ViolationRow
from policies.language.compiled import CompiledPolicy
from policies.timing.durations import Period

BATCH = 1000


class PenaltyState(StrEnum):
    RUNS = "runs"
    SUSPENDED = "suspended"  # disputed: not applied until an auditor confirms or waives it
    WAIVED = "waived"


_STATE = {"disputed": PenaltyState.SUSPENDED, "waived": PenaltyState.WAIVED}


@dataclass(frozen=True)
class PenaltyTerm:
    penalty: str  # the policy's penalty id
    name: str
    description: str
    starts: date
    last_day: date | None  # inclusive; None: the policy sets no period
    state: PenaltyState

    def covers(self, day: date) -> bool:
        return self.starts <= day and (self.last_day is None or day <= self.last_day)

    def on_record(self, day: date) -> bool:
        """Listed among the person's current penalties on ``day``: covering it and not waived."""
        return self.state is not PenaltyState.WAIVED and self.covers(day)


def add_period(start: date, period: Period) -> date:
    """``start`` moved on by the period; a day past the month's end becomes its last day (Jan 31 + 1
    month = Feb 28), as people count months."""
    months = start.month - 1 + period.months + 12 * period.years
    year, month = start.year + months // 12, months % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day) + timedelta(days=period.days)


def penalty_term(
    policy: CompiledPolicy, penalty_id: str | None, due_at: datetime, status: str
) -> PenaltyTerm | None:
    """The term a violation's penalty runs for, or None when the step carries no penalty."""
    penalty = policy.penalty(penalty_id)
    if penalty is None:
        return None
    starts = due_at.astimezone(policy.calendar.zone).date()
    last_day = add_period(starts, penalty.period) - timedelta(days=1) if penalty.period else None
    return PenaltyTerm(
        penalty=penalty.id,
        name=penalty.name,
        description=penalty.description,
        starts=starts,
        last_day=last_day,
        state=_STATE.get(status, PenaltyState.RUNS),
    )


@dataclass(frozen=True)
class CurrentPenalty:
    """One penalty in force (or suspended) on a person today, with the violation it comes from."""

    actor: str
    actor_name: str | None
    key: str
    complaint: str
    step: str
    step_title: str
    policy_version: str
    term: PenaltyTerm


@dataclass(frozen=True)
class PersonPenalties:
    actor: str
    actor_name: str | None
    penalties: tuple[CurrentPenalty, ...]


def current_penalties(session: Session, registry: PolicyRegistry, now: datetime) -> list[PersonPenalties]:
    """For each person, the penalties whose period covers ``now`` (not waived), by person id."""
    by_actor: dict[str, list[CurrentPenalty]] = {}
    for current in _in_force(session, registry, now):
        by_actor.setdefault(current.actor, []).append(current)
    return [
        PersonPenalties(
            actor, found[0].actor_name, tuple(sorted(found, key=lambda c: (c.term.starts, c.key)))
        )
        for actor, found in sorted(by_actor.items())
    ]


def _in_force(session: Session, registry: PolicyRegistry, now: datetime) -> Iterator[CurrentPenalty]:
    # Streams every penalised, unwaived violation due by now (memory stays flat); only those whose
    # period covers today are kept, and that is a small set.
    query = (
        select(ViolationRow, ComplaintRow.org_hash)
        .join(ComplaintRow, ComplaintRow.id == ViolationRow.complaint_id)
        .where(ViolationRow.penalty.is_not(None), ViolationRow.status != "waived", ViolationRow.due_at <= now)
        .order_by(ViolationRow.key)
        .execution_options(yield_per=BATCH)
    )
    for row, org_hash in session.execute(query).tuples():
        pinned = registry.pinned(session, row.policy_version, org_hash)
        term = penalty_term(pinned.policy, row.penalty, row.due_at, row.status)
        today = now.astimezone(pinned.policy.calendar.zone).date()
        if term is not None and term.on_record(today):
            person = pinned.org.person(row.actor)
            step = pinned.policy.step(row.step)
            yield CurrentPenalty(
                actor=row.actor,
                actor_name=person.name if person else None,
                key=row.key,
                complaint=row.complaint_id,
                step=row.step,
                step_title=step.title if step else row.step,
                policy_version=row.policy_version,
                term=term,
            )
        session.expunge(row)
