"""Dry run: what a candidate policy would have done differently to the complaints of the last N days.

Each complaint received in the window is replayed from its recorded events: the engine decides at
``now`` under the version the complaint is pinned to and under the candidate (with the complaint's
own org snapshot, unless a new org came with the candidate), and ``policies.engine.compare`` lists the
violations and notifications that differ. Nothing is written: a dry run changes no complaint.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from flows.records.events import load_events
from flows.registry import PolicyRegistry
from models.org import Org
from models.tables import ComplaintRow
from policies.engine.compare import Difference, compare
from policies.engine.decide import decide
from policies.language.compiled import CompiledPolicy

MAX_DAYS = 366


@dataclass(frozen=True)
class Totals:
    violations_added: int = 0
    violations_removed: int = 0
    notifications_added: int = 0
    notifications_removed: int = 0


@dataclass(frozen=True)
class DryRun:
    now: datetime
    since: datetime
    replayed: int  # complaints received in the window
    differences: tuple[Difference, ...]  # only the complaints that would have gone differently

    @property
    def totals(self) -> Totals:
        return Totals(
            violations_added=sum(len(d.violations_added) for d in self.differences),
            violations_removed=sum(len(d.violations_removed) for d in self.differences),
            notifications_added=sum(len(d.notifications_added) for d in self.differences),
            notifications_removed=sum(len(d.notifications_removed) for d in self.differences),
        )

    def to_json(self) -> dict[str, object]:
        """The ``policy dry-run --json`` document; times in ISO-8601 UTC."""
        return {
            "now": self.now.isoformat(),
            "since": self.since.isoformat(),
            "replayed": self.replayed,
            "totals": vars(self.totals),
            "complaints": [_difference_json(d) for d in self.differences],
        }


def dry_run(
    sessions: sessionmaker[Session],
    registry: PolicyRegistry,
    candidate: CompiledPolicy,
    org: Org | None,
    *,
    now: datetime,
    days: int,
) -> DryRun:
    """Replay the complaints received in the ``days`` before ``now`` under ``candidate``."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    since = now - timedelta(days=days)
    differences: list[Difference] = []
    replayed = 0
    with sessions() as session:
        for complaint in _received(session, since, now):
            replayed += 1
            events, _ = load_events(session, complaint.id)
            pinned = registry.pinned(session, complaint.policy_version, complaint.org_hash)
            current = decide(pinned.policy, pinned.org, events, now)
            proposed = decide(candidate, org or pinned.org, events, now)
            difference = compare(complaint.id, current, proposed)
            if not difference.empty:
                differences.append(difference)
    return DryRun(now=now, since=since, replayed=replayed, differences=tuple(differences))


def _received(session: Session, since: datetime, now: datetime) -> Iterator[ComplaintRow]:
    query = (
        select(ComplaintRow)
        .where(ComplaintRow.received_at >= since)
        .where(ComplaintRow.received_at <= now)
        .order_by(ComplaintRow.seq)
    )
    yield from session.scalars(query)


def _difference_json(difference: Difference) -> dict[str, object]:
    def violations(facts: tuple[object, ...]) -> list[dict[str, object]]:
        return [_fact_json(f) for f in facts]

    return {
        "complaint": difference.complaint,
        "violations_added": violations(difference.violations_added),
        "violations_removed": violations(difference.violations_removed),
        "notifications_added": violations(difference.notifications_added),
        "notifications_removed": violations(difference.notifications_removed),
    }


def _fact_json(fact: object) -> dict[str, object]:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value for key, value in vars(fact).items()
    }
