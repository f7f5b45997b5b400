"""What a complaint is, independent of storage: its channel, classification and people involved."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Channel(StrEnum):
    """Intake channels (R7): where a complaint reached the organisation."""

    WEB = "web"
    EMAIL = "email"
    PHONE = "phone"
    DESK = "desk"
    SOCIAL_MEDIA = "social_media"
    THIRD_PARTY = "third_party"
    SURVEY = "survey"


class Complainant(BaseModel):
    """Contact details are optional: a complaint may be anonymous. Never logged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str | None = None


# The attributes a policy's `when:` conditions may test, in the order `explain` lists them.
CONDITION_ATTRIBUTES = ("channel", "category", "severity", "complexity", "department")
