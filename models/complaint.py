"""What a complaint is, independent of storage: its channel, classification and people involved."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


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

    # Length limits bound what intake stores and renders (an email address is at most 320 octets).
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=50)
    language: str | None = Field(default=None, max_length=64)


# The attributes a policy's `when:` conditions may test, in the order `explain` lists them.
CONDITION_ATTRIBUTES = ("channel", "category", "severity", "complexity", "department")


class Attachment(BaseModel):
    """A file a complainant sent (web form or email); sizes are capped by intake."""

    model_config = ConfigDict(frozen=True)

    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    content: bytes
