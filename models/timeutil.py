"""Aware-datetime helpers shared by every layer: times are stored as UTC and must carry an offset."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def require_aware(value: datetime) -> datetime:
    """Normalise an aware datetime to UTC; reject naive ones, whose meaning depends on the machine."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("time must carry a UTC offset, e.g. 2026-04-01T09:00:00+09:00")
    return value.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(require_aware)]
