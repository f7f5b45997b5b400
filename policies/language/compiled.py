"""The compiled policy: immutable, hashable, with every expression parsed and a content version.

Complaints pin the version they started under, so activating a new policy never changes them.
"""

import hashlib
import json
from dataclasses import dataclass

from models.complaint import Channel
from policies.language.expressions import Actor, Anchor
from policies.timing.calendar import WorkCalendar
from policies.timing.durations import Duration, Period


@dataclass(frozen=True)
class Escalation:
    targets: tuple[Actor, ...]
    template: str
    after: Duration


@dataclass(frozen=True)
class Reminder:
    every: Duration
    max: int | None
    template: str


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    kind: str
    path: str | None
    rule: str
    actor: Actor
    targets: tuple[Actor, ...]
    anchor: Anchor
    within: Duration
    when: tuple[tuple[str, frozenset[str]], ...]
    template: str
    reminder: Reminder | None
    penalty: str | None
    escalations: tuple[Escalation, ...]
    repeat_until_resolved: bool
    closes_on: tuple[Anchor, ...]


@dataclass(frozen=True)
class Penalty:
    id: str
    name: str
    description: str
    period: Period | None
    applies_to: tuple[Actor, ...]


@dataclass(frozen=True)
class CompiledPolicy:
    id: str
    name: str
    version: str
    language: str
    calendar: WorkCalendar
    owner: Actor
    default_first_hearer: Actor | None
    default_handler: Actor | None
    receipt_template: str | None
    receipt_channels: frozenset[Channel] | None
    categories: tuple[tuple[str, str], ...]
    # An unclassified complaint counts as the first listed severity and complexity, so that
    # conditional steps still give it a deadline instead of silently applying to nothing.
    attribute_defaults: tuple[tuple[str, str], ...]
    penalties: tuple[Penalty, ...]
    steps: tuple[Step, ...]  # prerequisites before the steps that wait for them

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    def penalty(self, penalty_id: str | None) -> Penalty | None:
        return next((p for p in self.penalties if p.id == penalty_id), None)


def content_version(document: object) -> str:
    """A stable version id: the SHA-256 of the policy's canonical JSON, not of its formatting."""
    canonical = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()[:16]
