"""Working-time arithmetic against a country's holiday calendar, in the policy's time zone.

A working day is what the ``holidays`` package says it is (weekends and public holidays off, China's
adjusted working weekends on). Working hours are a daily window, ``09:00-18:00`` by default
``00:00-24:00``. ``N working days`` is N windows' worth of working time, so a complaint received on
Friday evening with one working day to answer is due when Monday's window closes.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from policies.errors import PolicyError
from policies.timing.durations import Duration, Unit

_SEARCH_DAYS = 3660  # a calendar with no working day in ten years can never meet a deadline


class CalendarError(PolicyError):
    """The calendar has no working time to count in."""


@lru_cache(maxsize=32)
def _holidays(country: str, subdiv: str | None) -> holidays.HolidayBase:
    return holidays.country_holidays(country, subdiv=subdiv)


def calendar_exists(country: str, subdiv: str | None = None) -> bool:
    """Whether ``holidays`` knows the country (and the subdivision, when one is named)."""
    try:
        _holidays(country, subdiv)
    except (NotImplementedError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class WorkCalendar:
    """Time zone, holiday country and daily working window (minutes after local midnight)."""

    timezone: str
    country: str | None = None
    subdiv: str | None = None
    start_minute: int = 0
    end_minute: int = 24 * 60

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        if self.country is None:
            return day.weekday() < 5  # noqa: PLR2004 - Monday..Friday when no country is named
        return bool(_holidays(self.country, self.subdiv).is_working_day(day))

    def add(self, anchor: datetime, duration: Duration) -> datetime:
        """The due time ``duration`` after ``anchor`` (aware), as an aware UTC datetime."""
        if duration.unit is Unit.SECONDS:
            return anchor.astimezone(UTC) + timedelta(seconds=duration.amount)
        if duration.unit is Unit.WORKING_HOURS:
            return self._add_working(anchor, timedelta(hours=duration.amount))
        window = timedelta(minutes=self.end_minute - self.start_minute)
        return self._add_working(anchor, window * duration.amount)

    def _window(self, day: date) -> tuple[datetime, datetime]:
        midnight = datetime.combine(day, time(0), tzinfo=self.zone)
        start = (midnight + timedelta(minutes=self.start_minute)).replace(tzinfo=None)
        end = (midnight + timedelta(minutes=self.end_minute)).replace(tzinfo=None)
        # Wall-clock minutes localised one by one, so a DST change inside the window is honoured.
        return (
            start.replace(tzinfo=self.zone).astimezone(UTC),
            end.replace(tzinfo=self.zone).astimezone(UTC),
        )

    def _add_working(self, anchor: datetime, amount: timedelta) -> datetime:
        if self.end_minute <= self.start_minute:
            raise CalendarError("working hours end before they start: no working time to count")
        cursor = anchor.astimezone(UTC)
        day = cursor.astimezone(self.zone).date()
        for _ in range(_SEARCH_DAYS):
            if self.is_working_day(day):
                start, end = self._window(day)
                if cursor < end:
                    cursor = max(cursor, start)
                    if cursor + amount <= end:
                        return cursor + amount
                    amount -= end - cursor
                    cursor = end
            day += timedelta(days=1)
        raise CalendarError(f"no working day within {_SEARCH_DAYS} days of {anchor.isoformat()}")
