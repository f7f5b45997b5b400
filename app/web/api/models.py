"""Models of the JSON API: the complaint it takes in, and what comes back, so the OpenAPI schema
says exactly both.

The timeline carries facts, not content: no complaint text, no notes, no addresses, no mail bodies;
people appear by their org id only.
"""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from flows.intake.store import NewComplaint
from models.complaint import Complainant
from notifiers.addresses import complainant_address

# The same check the web form applies: the receipt is sent to this address, so one that cannot be
# sent to (CR/LF, commas, ``Name <a@b>``, a non-ASCII local part) is refused at intake, not at send.
ComplainantEmail = Annotated[str, Field(max_length=320), AfterValidator(complainant_address)]


class ComplainantIn(Complainant):
    """The complainant's contact details, all optional; the email must be one plain address."""

    email: ComplainantEmail | None = None


class ComplaintIn(NewComplaint):
    """A new complaint. Without a staff or admin account only what a complainant knows may be sent:
    channel ``web``, ``complainant``, ``category``, ``subject`` and ``body``; the other fields (and the
    other channels) are for staff logging what they heard, and are 403 otherwise. Times staff give
    must lie in the intake window (by default at most 30 days back and 5 minutes ahead): 422 else."""

    complainant: ComplainantIn = ComplainantIn()


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
