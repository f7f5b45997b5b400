"""The events of a complaint's life. The engine's only input besides policy, org and `now`.

Events are append-only facts; every decision is derived from them, so replaying the same events
always yields the same decisions.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.complaint import Channel, Complainant
from models.timeutil import AwareDatetime


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    complaint: str = Field(min_length=1)
    at: AwareDatetime


class ComplaintDetails(BaseModel):
    """What is known about a complaint when it arrives (intake's input, and the received event's body).

    ``heard_by``/``heard_at`` name the first hearer (R1); ``occurred_at`` is when the incident happened
    (R5 counts from it). Both default to the receipt time when unknown.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: Channel
    # Length limits bound what intake stores and renders; ids are short keys from the policy or org.
    category: str | None = Field(default=None, max_length=64)
    severity: str | None = Field(default=None, max_length=64)
    complexity: str | None = Field(default=None, max_length=64)
    department: str | None = Field(default=None, max_length=64)
    heard_by: str | None = Field(default=None, max_length=64)
    heard_at: AwareDatetime | None = None
    occurred_at: AwareDatetime | None = None
    complainant: Complainant = Complainant()
    subject: str | None = Field(default=None, max_length=300)
    body: str | None = Field(default=None, max_length=20000)


class ComplaintReceived(_Event, ComplaintDetails):
    """A complaint entered the system (web form, email, or staff logging a phone or desk complaint)."""

    type: Literal["complaint_received"] = "complaint_received"
    # The account that entered it (a staff member logging a phone call, an API client); None for a
    # complainant's own form or email. Kept as evidence; the engine does not read it.
    recorded_by: str | None = None


class Classified(_Event):
    """Triage changed the complaint's classification (R9 initial assessment)."""

    type: Literal["classified"] = "classified"
    by: str | None = None
    category: str | None = None
    severity: str | None = None
    complexity: str | None = None
    department: str | None = None


class Assigned(_Event):
    """The complaint was handed to a handler: ownership moves explicitly (R16)."""

    type: Literal["assigned"] = "assigned"
    handler: str
    by: str | None = None


class StepDone(_Event):
    """Someone did a step: reported, acknowledged, called, resolved, filed the report."""

    type: Literal["step_done"] = "step_done"
    step: str
    by: str
    to: str | None = None
    note: str | None = None
    # The account that entered it through the API, when not ``by`` themself (kept as evidence; the
    # engine does not read it).
    recorded_by: str | None = None


class Resolved(_Event):
    """The complaint was resolved; follow-up steps (R11, R14) count from here."""

    type: Literal["resolved"] = "resolved"
    by: str | None = None


class Reopened(_Event):
    """The complainant was not satisfied: the complaint is re-evaluated (R10)."""

    type: Literal["reopened"] = "reopened"
    by: str | None = None
    reason: str | None = None


Event = Annotated[
    ComplaintReceived | Classified | Assigned | StepDone | Resolved | Reopened,
    Field(discriminator="type"),
]
EVENT_CLASSES: dict[str, type[_Event]] = {
    cls.model_fields["type"].default: cls
    for cls in (ComplaintReceived, Classified, Assigned, StepDone, Resolved, Reopened)
}
