"""Aware-datetime helpers shared by every layer: times are stored as UTC and must carry an offset.

Every time that comes in from outside (API bodies and query parameters, forms, files) goes through
``AwareDatetime``, so a value is refused here, as a validation error, rather than failing later in
arithmetic or storage: ``0001-01-01T00:00+14:00`` has no UTC equivalent (it falls in year 0), and
neither has ``9999-12-31T23:00-05:00``.
"""

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator

OUT_OF_RANGE = "time out of range: in UTC it must fall between 0001-01-01 and 9999-12-31"


def require_aware(value: datetime) -> datetime:
    """Normalise an aware datetime to UTC; reject naive ones, whose meaning depends on the machine,
    and those whose UTC equivalent a ``datetime`` cannot hold."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("time must carry a UTC offset, e.g. 2026-04-01T09:00:00+09:00")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(OUT_OF_RANGE) from None


AwareDatetime = Annotated[datetime, AfterValidator(require_aware)]


# The days a filter or period given as calendar dates may name (dashboard, violation log). Far inside
# what ``date`` holds, so local midnights, their UTC times and the weeks around them always exist.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)


def day_in_range(day: date) -> bool:
    """Whether a calendar-date filter may start or end on ``day``."""
    return FIRST_DAY <= day <= LAST_DAY


def require_day_in_range(day: date) -> date:
    """``day`` if a calendar-date filter may name it; otherwise a validation error with the range."""
    if not day_in_range(day):
        raise ValueError(f"day out of range: choose one from {FIRST_DAY} to {LAST_DAY}")
    return day


FilterDay = Annotated[date, AfterValidator(require_day_in_range)]
