"""Parsing the calendar's daily working window, ``HH:MM-HH:MM`` (``24:00`` allowed as an end)."""

import re

_RANGE = re.compile(r"^(\d\d):(\d\d)-(\d\d):(\d\d)$")
_DAY = 24 * 60


def parse_working_hours(text: str) -> tuple[int, int]:
    """Return (start, end) in minutes after local midnight; ValueError says what is wrong."""
    match = _RANGE.match(text)
    if match is None:
        raise ValueError(f"working hours {text!r} must look like 09:00-18:00 (HH:MM-HH:MM)")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or start >= _DAY or end > _DAY:  # noqa: PLR2004
        raise ValueError(f"working hours {text!r} are not times of day (00:00 to 24:00)")
    return start, end
