"""A complaint's history as the engine reads it: the events up to ``now``, indexed for questions
such as "who was the handler at 10:05?" or "what was the severity then?"."""

from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

from models.events import (
    Assigned,
    Classified,
    ComplaintReceived,
    Event,
    Reopened,
    Resolved,
    StepDone,
)

_CLASSIFIABLE = ("category", "severity", "complexity", "department")


@dataclass(frozen=True)
class ComplaintFacts:
    complaint: str
    received: ComplaintReceived
    attributes: tuple[tuple[datetime, dict[str, str | None]], ...]  # snapshots, oldest first
    assignments: tuple[Assigned, ...]
    done: tuple[StepDone, ...]
    resolved: tuple[datetime, ...]
    reopened: tuple[datetime, ...]

    @property
    def received_at(self) -> datetime:
        return self.received.at

    @property
    def heard_at(self) -> datetime:
        return self.received.heard_at or self.received.at

    @property
    def occurred_at(self) -> datetime:
        return self.received.occurred_at or self.heard_at

    def attributes_at(self, when: datetime) -> dict[str, str | None]:
        index = bisect_right([t for t, _ in self.attributes], when) - 1
        return self.attributes[max(index, 0)][1]

    def change_points(self, after: datetime) -> list[datetime]:
        return [t for t, _ in self.attributes if t > after]

    def handler_at(self, when: datetime) -> str | None:
        current = None
        for assigned in self.assignments:
            if assigned.at <= when:
                current = assigned.handler
        return current

    def handovers(self, after: datetime, until: datetime) -> list[datetime]:
        return [a.at for a in self.assignments if after < a.at <= until]


def facts_of(events: list[Event]) -> ComplaintFacts | None:
    """Facts of one complaint's events (already filtered to ``at <= now``), or None before receipt."""
    ordered = _in_order(events)
    received = next((e for e in ordered if isinstance(e, ComplaintReceived)), None)
    if received is None:
        return None
    current: dict[str, str | None] = {"channel": received.channel.value}
    current.update({k: getattr(received, k) for k in _CLASSIFIABLE})
    snapshots = [(received.at, dict(current))]
    for event in ordered:
        if isinstance(event, Classified) and event.at >= received.at:
            current.update({k: getattr(event, k) for k in _CLASSIFIABLE if getattr(event, k)})
            snapshots.append((event.at, dict(current)))
    return ComplaintFacts(
        complaint=received.complaint,
        received=received,
        attributes=tuple(snapshots),
        assignments=tuple(e for e in ordered if isinstance(e, Assigned)),
        done=tuple(e for e in ordered if isinstance(e, StepDone)),
        resolved=tuple(e.at for e in ordered if isinstance(e, Resolved)),
        reopened=tuple(e.at for e in ordered if isinstance(e, Reopened)),
    )


def _in_order(events: list[Event]) -> list[Event]:
    """Events by time; simultaneous ones by content, so the input order never changes a decision."""
    ordered: list[Event] = []
    for _, group in groupby(sorted(events, key=lambda e: e.at), key=lambda e: e.at):
        same_time = list(group)
        if len(same_time) > 1:
            same_time.sort(key=lambda e: e.model_dump_json())
        ordered.extend(same_time)
    return ordered
