"""Response models of the JSON API, declared so the OpenAPI schema says exactly what comes back.

The timeline carries facts, not content: no complaint text, no notes, no addresses, no mail bodies;
people appear by their org id only.
"""

from datetime import datetime

from pydantic import BaseModel


class Problem(BaseModel):
    """An error with a human-readable reason (403, 404, 413)."""

    detail: str


class Created(BaseModel):
    id: str


class Recorded(BaseModel):
    complaint: str
    seq: int


class TimelineEvent(BaseModel):
    """One logged event; ``step``, ``by`` and ``to`` are set for ``step_done`` only."""

    seq: int
    type: str
    at: datetime
    step: str | None = None
    by: str | None = None
    to: str | None = None


class TimelineObligation(BaseModel):
    step: str
    occurrence: int
    actor: str
    due_at: datetime
    status: str
    done_at: datetime | None


class Violation(BaseModel):
    key: str
    complaint: str
    step: str
    occurrence: int
    actor: str
    due_at: datetime
    detected_at: datetime
    penalty: str | None
    status: str


class TimelineEmail(BaseModel):
    """A queued or sent email: ``recipient`` is a person id or ``complainant``, never an address."""

    kind: str
    step: str | None
    recipient: str
    status: str
    sent_at: datetime | None


class Timeline(BaseModel):
    complaint: str
    channel: str
    status: str
    received_at: datetime
    events: list[TimelineEvent]
    obligations: list[TimelineObligation]
    violations: list[Violation]
    emails: list[TimelineEmail]


class ViolationPage(BaseModel):
    """One page of violations; pass ``next`` as ``after`` for the following page (null: no more)."""

    items: list[Violation]
    next: str | None
