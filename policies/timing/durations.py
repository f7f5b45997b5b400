"""Durations as administrators write them: ``2h``, ``30 minutes``, ``2時間``, ``3 working days``,
``1个工作日``.

Wall-clock units count elapsed time; working units walk the policy's calendar (see ``calendar``).
Penalty periods (``1 year``, ``一年間``) are calendar periods, parsed by ``parse_period``.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from policies.errors import ExpressionError


class Unit(StrEnum):
    SECONDS = "seconds"
    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"


_WALL_SECONDS = {
    ("s", "sec", "secs", "second", "seconds", "秒"): 1,
    ("m", "min", "mins", "minute", "minutes", "分", "分間", "分钟", "分鐘"): 60,
    ("h", "hr", "hrs", "hour", "hours", "時間", "小时", "小時"): 3600,
    ("d", "day", "days", "日", "日間", "天"): 86400,
    ("w", "week", "weeks", "週間", "週", "周", "星期"): 7 * 86400,
}
_WORKING = {
    ("wd", "working day", "working days", "business day", "business days", "営業日", "工作日"): (
        Unit.WORKING_DAYS
    ),
    ("wh", "working hour", "working hours", "business hour", "business hours", "営業時間"): (
        Unit.WORKING_HOURS
    ),
    ("工作小时", "工作小時"): Unit.WORKING_HOURS,
}
_NUMBER = re.compile(r"^\s*(\d+)\s*(?:个|個|ヶ|か|カ)?\s*(.+?)\s*$")


@dataclass(frozen=True)
class Duration:
    """An amount of a unit; for wall-clock units ``amount`` is in seconds."""

    amount: int
    unit: Unit

    def __str__(self) -> str:
        if self.unit is Unit.SECONDS:
            return _format_seconds(self.amount)
        return f"{self.amount} {self.unit.value.replace('_', ' ')}"


def parse_duration(text: str) -> Duration:
    """Parse a deadline, reminder or escalation duration; raise ExpressionError naming the text."""
    amount, unit = _split(text)
    unit_key = unit.lower()
    for names, seconds in _WALL_SECONDS.items():
        if unit_key in names:
            return Duration(amount * seconds, Unit.SECONDS)
    for names, working in _WORKING.items():
        if unit_key in names:
            return Duration(amount, working)
    raise ExpressionError(
        f"unknown duration unit {unit!r} in {text!r} (use s, m, h, d, w, working days, working hours,"
        " or 秒, 分, 時間, 日, 営業日, 小时, 天, 工作日)"
    )


@dataclass(frozen=True)
class Period:
    """A calendar period a penalty runs for (``1 year`` from the violation's detection)."""

    years: int = 0
    months: int = 0
    days: int = 0

    def __str__(self) -> str:
        parts = [(self.years, "year"), (self.months, "month"), (self.days, "day")]
        return " ".join(f"{n} {u}{'s' if n != 1 else ''}" for n, u in parts if n)


_PERIOD_UNITS = {
    ("y", "year", "years", "年", "年間"): "years",
    ("mo", "month", "months", "月", "か月", "ヶ月", "月間"): "months",
    ("w", "week", "weeks", "週間", "周", "星期"): "weeks",
    ("d", "day", "days", "日", "日間", "天"): "days",
}


def parse_period(text: str) -> Period:
    amount, unit = _split(text)
    for names, field in _PERIOD_UNITS.items():
        if unit.lower() in names:
            if field == "weeks":
                return Period(days=7 * amount)
            return Period(**{field: amount})
    raise ExpressionError(f"unknown period unit {unit!r} in {text!r} (use years, months, weeks, days)")


def _split(text: str) -> tuple[int, str]:
    match = _NUMBER.match(str(text))
    if match is None:
        raise ExpressionError(f"{text!r} is not a duration like '2h', '30 minutes' or '3 working days'")
    return int(match.group(1)), match.group(2)


def _format_seconds(seconds: int) -> str:
    for size, name in ((604800, "w"), (86400, "d"), (3600, "h"), (60, "m")):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{name}"
    return f"{seconds}s"
