"""What the engine decides: obligations, notifications, violations and when to wake up next."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class ObligationStatus(StrEnum):
    OPEN = "open"  # not done, not yet due
    OVERDUE = "overdue"  # not done, due time passed: a violation exists
    MET = "met"  # done on or before the due time
    LATE = "late"  # done after the due time: the violation stands
    CANCELLED = "cancelled"  # stopped applying before its due time (reclassified, closed by an event)
    HANDED_OVER = "handed_over"  # ownership moved to another person before the due time (R16)


class NotificationKind(StrEnum):
    REQUEST = "request"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    RECEIPT = "receipt"


class Obligation(BaseModel):
    """Somebody owes a step of a complaint by a due time.

    ``actor`` is a person id, or a group label such as ``role:cs_desk`` when several people share it;
    ``actors`` lists who may fulfil it and ``targets`` whom it must be addressed to (any one of them).
    """

    model_config = ConfigDict(frozen=True)

    key: str
    complaint: str
    step: str
    occurrence: int
    actor: str
    actors: tuple[str, ...]
    targets: tuple[str, ...]
    started_at: datetime
    due_at: datetime
    status: ObligationStatus
    done_at: datetime | None = None
    ended_at: datetime | None = None


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    at: datetime
    complaint: str
    step: str | None
    to: tuple[str, ...]
    template: str
    kind: NotificationKind


class Violation(BaseModel):
    """A missed obligation: who missed what, when it was due, and the penalty it carries (R4)."""

    model_config = ConfigDict(frozen=True)

    key: str
    complaint: str
    step: str
    occurrence: int
    actor: str
    due_at: datetime
    penalty: str | None


class Decisions(BaseModel):
    """Everything that holds for one complaint (or many) at ``now``; keys make re-application idempotent."""

    model_config = ConfigDict(frozen=True)

    now: datetime
    obligations: tuple[Obligation, ...] = ()
    notifications: tuple[Notification, ...] = ()
    violations: tuple[Violation, ...] = ()
    wake_at: datetime | None = None
