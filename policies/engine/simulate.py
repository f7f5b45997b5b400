"""Replaying a scenario on a fake clock: jump from one event or ``wake_at`` to the next and record
what the engine newly decides at each stop, exactly as the runtime would on the wall clock."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.decisions import Decisions, Notification, Obligation, Violation
from models.events import Event
from models.org import Org
from policies.engine.decide import decide
from policies.language.compiled import CompiledPolicy

MAX_STOPS = 100_000


@dataclass(frozen=True)
class Detected:
    violation: Violation
    detected_at: datetime


@dataclass(frozen=True)
class Simulation:
    policy: CompiledPolicy
    events: tuple[Event, ...]
    notifications: tuple[Notification, ...]
    violations: tuple[Detected, ...]
    final: Decisions

    @property
    def obligations(self) -> tuple[Obligation, ...]:
        return self.final.obligations

    def to_json(self) -> dict[str, Any]:
        """The documented ``simulate --json`` contract (docs/scenarios.md), times in the policy's zone."""
        zone = self.policy.calendar.zone

        def iso(moment: datetime) -> str:
            return moment.astimezone(zone).isoformat()

        return {
            "policy": {"id": self.policy.id, "version": self.policy.version},
            "notifications": [
                {
                    "at": iso(n.at),
                    "complaint": n.complaint,
                    "step": n.step,
                    "to": list(n.to),
                    "template": n.template,
                    "kind": n.kind.value,
                }
                for n in self.notifications
            ],
            "violations": [
                {
                    "complaint": d.violation.complaint,
                    "step": d.violation.step,
                    "actor": d.violation.actor,
                    "due_at": iso(d.violation.due_at),
                    "detected_at": iso(d.detected_at),
                    "penalty": d.violation.penalty,
                }
                for d in self.violations
            ],
            "obligations": [
                {
                    "complaint": o.complaint,
                    "step": o.step,
                    "actor": o.actor,
                    "due_at": iso(o.due_at),
                    "status": o.status.value,
                }
                for o in sorted(self.obligations, key=lambda o: (o.due_at, o.key))
            ],
        }


def simulate(policy: CompiledPolicy, org: Org, events: Sequence[Event], until: datetime) -> Simulation:
    """Run the engine at every event time and every wake-up time up to ``until``."""
    event_times = sorted({e.at for e in events if e.at <= until})
    notifications: dict[str, Notification] = {}
    detected: dict[str, Detected] = {}
    cursor = event_times[0] if event_times else until
    for _ in range(MAX_STOPS):
        decisions = decide(policy, org, events, cursor)
        for notification in decisions.notifications:
            notifications.setdefault(notification.key, notification)
        for violation in decisions.violations:
            detected.setdefault(violation.key, Detected(violation, cursor))
        upcoming = [t for t in event_times if t > cursor]
        if decisions.wake_at is not None:
            upcoming.append(decisions.wake_at)
        following = min(upcoming, default=None)
        if following is None or following > until:
            break
        cursor = following
    final = decide(policy, org, events, until)
    return Simulation(
        policy=policy,
        events=tuple(sorted(events, key=lambda e: e.at)),
        notifications=tuple(sorted(notifications.values(), key=lambda n: (n.at, n.key))),
        violations=tuple(sorted(detected.values(), key=lambda d: (d.violation.due_at, d.violation.key))),
        final=final,
    )
