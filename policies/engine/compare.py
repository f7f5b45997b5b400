"""Comparing what two policies decide for the same complaint: the heart of a dry run.

Violations are matched on what an auditor would see (step, occurrence, who, due time, penalty), so a
deadline moved from 10:30 to 10:10 reads as one violation removed and one added. Notifications are
matched per recipient on kind, step, time and template. Keys are not compared: they name the same
obligation under both policies and would hide a moved due time.
"""

from dataclasses import dataclass
from datetime import datetime

from models.decisions import Decisions


@dataclass(frozen=True)
class ViolationFact:
    due_at: datetime
    step: str
    occurrence: int
    actor: str
    penalty: str | None


@dataclass(frozen=True)
class NotificationFact:
    at: datetime
    kind: str
    step: str | None
    recipient: str
    template: str


@dataclass(frozen=True)
class Difference:
    """How one complaint would have gone differently under the candidate policy."""

    complaint: str
    violations_added: tuple[ViolationFact, ...] = ()
    violations_removed: tuple[ViolationFact, ...] = ()
    notifications_added: tuple[NotificationFact, ...] = ()
    notifications_removed: tuple[NotificationFact, ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.violations_added
            or self.violations_removed
            or self.notifications_added
            or self.notifications_removed
        )


def violation_facts(decisions: Decisions) -> set[ViolationFact]:
    return {ViolationFact(v.due_at, v.step, v.occurrence, v.actor, v.penalty) for v in decisions.violations}


def notification_facts(decisions: Decisions) -> set[NotificationFact]:
    return {
        NotificationFact(n.at, n.kind.value, n.step, recipient, n.template)
        for n in decisions.notifications
        for recipient in n.to
    }


def compare(complaint: str, current: Decisions, candidate: Decisions) -> Difference:
    """What ``candidate`` decides for ``complaint`` that ``current`` does not, and the reverse."""
    old_v, new_v = violation_facts(current), violation_facts(candidate)
    old_n, new_n = notification_facts(current), notification_facts(candidate)
    return Difference(
        complaint=complaint,
        violations_added=tuple(sorted(new_v - old_v, key=_by_due)),
        violations_removed=tuple(sorted(old_v - new_v, key=_by_due)),
        notifications_added=tuple(sorted(new_n - old_n, key=_order)),
        notifications_removed=tuple(sorted(old_n - new_n, key=_order)),
    )


def _by_due(fact: ViolationFact) -> tuple[datetime, str, int, str, str]:
    return (fact.due_at, fact.step, fact.occurrence, fact.actor, fact.penalty or "")


def _order(fact: NotificationFact) -> tuple[datetime, str, str, str, str]:
    # step is None for receipts: sort them with an empty step rather than failing on None < str.
    return (fact.at, fact.kind, fact.step or "", fact.recipient, fact.template)
