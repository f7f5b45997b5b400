"""The policy file's shape, as pydantic models: what an administrator may write, and nothing else.

Expressions (actors, anchors, durations) are checked for syntax here, so a typo is reported at the
exact value; references between parts (steps, roles, penalties, templates) are checked in ``checks``.
"""

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from models.complaint import Channel
from policies.errors import ExpressionError
from policies.language.expressions import parse_actor, parse_anchor
from policies.timing.durations import parse_duration, parse_period


def _check(parse: object) -> AfterValidator:
    def validate(value: str) -> str:
        try:
            parse(value)  # type: ignore[operator]
        except ExpressionError as exc:
            raise ValueError(str(exc)) from exc
        return value

    return AfterValidator(validate)


ActorText = Annotated[str, _check(parse_actor)]
AnchorText = Annotated[str, _check(parse_anchor)]
DurationText = Annotated[str, _check(parse_duration)]
PeriodText = Annotated[str, _check(parse_period)]
Identifier = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$", max_length=64)]
Language = Literal["ja", "zh", "en"]
StepKind = Literal[
    "report",
    "acknowledge",
    "assess",
    "respond",
    "corrective_action",
    "investigate",
    "resolve",
    "callback",
    "survey",
    "progress_update",
    "incident_report",
    "action",
]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CalendarSpec(_Spec):
    holidays: str | None = None
    subdivision: str | None = None
    working_hours: str = Field(default="00:00-24:00", pattern=r"^\d\d:\d\d-\d\d:\d\d$")


class PenaltySpec(_Spec):
    name: str = Field(min_length=1)
    description: str = ""
    duration: PeriodText | None = None
    applies_to: list[ActorText]


class EscalationSpec(_Spec):
    to: ActorText | list[ActorText]
    template: str = "escalation"
    after: DurationText = "0s"


class OnMissedSpec(_Spec):
    penalty: str | None = None
    escalate: list[EscalationSpec] = []


class ReminderSpec(_Spec):
    every: DurationText
    max: int | None = Field(default=None, ge=1)
    template: str | None = None


class RepeatSpec(_Spec):
    until: Literal["resolved"] = "resolved"


class ReceiptSpec(_Spec):
    template: str = "receipt"
    channels: list[Channel] | None = None


class StepSpec(_Spec):
    id: Identifier
    title: str = Field(min_length=1)
    kind: StepKind = "action"
    description: str = ""
    rule: str = ""
    path: str | None = None
    actor: ActorText
    to: ActorText | list[ActorText] | None = None
    anchor: AnchorText = Field(alias="from")
    within: DurationText
    when: dict[str, list[str | int]] = {}
    template: str | None = None
    remind: ReminderSpec | None = None
    on_missed: OnMissedSpec = OnMissedSpec()
    repeat: RepeatSpec | None = None
    closes_on: list[AnchorText] = []


class PolicySpec(_Spec):
    id: Identifier
    name: str = Field(min_length=1)
    description: str = ""
    source: str = ""
    language: Language
    languages: list[Language] | None = None
    timezone: str
    org: str
    templates: str | None = None
    owner: ActorText
    default_first_hearer: ActorText | None = None
    default_handler: ActorText | None = None
    calendar: CalendarSpec = CalendarSpec()
    categories: dict[str, str] = {}
    severities: list[str] = ["normal", "urgent"]
    complexities: list[str] = ["simple", "complex"]
    receipt: ReceiptSpec | None = None
    penalties: dict[str, PenaltySpec] = {}
    steps: list[StepSpec] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Asia/Tokyo)") from exc
        return value

    @property
    def template_languages(self) -> list[str]:
        return list(self.languages or [self.language])
