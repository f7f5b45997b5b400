"""The dashboard's statistics as pure functions: shares, duration buckets, percentiles, weeks, ranking.

No database and no clock here: the queries (``flows.dashboard.queries``) hand over counts and
durations, and these functions turn them into the numbers the page and the CSVs show.
"""

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTE = 60.0
HOUR = 60 * MINUTE
DAY = 24 * HOUR

# Upper bounds (seconds) of the duration buckets; the last bucket is open-ended. The same buckets serve
# response times (R10/R14 count in minutes and hours) and resolution times (days), so both read alike.
DURATION_BOUNDS: tuple[float, ...] = (
    30 * MINUTE,
    HOUR,
    2 * HOUR,
    4 * HOUR,
    8 * HOUR,
    DAY,
    3 * DAY,
    7 * DAY,
)
# Unresolved complaints by age: under a day, up to three days, a week, a month, older.
AGE_BOUNDS: tuple[float, ...] = (DAY, 3 * DAY, 7 * DAY, 30 * DAY)


def share(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is nothing to divide (no obligations is not 0 % on time)."""
    return part / whole if whole else None


def bucket_counts(values: Sequence[float], bounds: Sequence[float]) -> list[int]:
    """How many values fall in each bucket ``[bound[i-1], bound[i])``, plus one open bucket at the end."""
    counts = [0] * (len(bounds) + 1)
    for value in values:
        counts[bisect.bisect_right(bounds, value)] += 1  # the first bound above the value
    return counts


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """The ``fraction`` quantile with linear interpolation between closest ranks (0.5 is the median)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Spread:
    """A distribution of durations in seconds: how many, median, 90th percentile, bucket counts."""

    count: int
    median: float | None
    p90: float | None
    buckets: tuple[int, ...]


def spread(values: Sequence[float], bounds: Sequence[float] = DURATION_BOUNDS) -> Spread:
    return Spread(
        count=len(values),
        median=percentile(values, 0.5),
        p90=percentile(values, 0.9),
        buckets=tuple(bucket_counts(values, bounds)),
    )


def week_starts(first: date, last: date, zone: ZoneInfo) -> list[datetime]:
    """Local Mondays 00:00 (as aware times in ``zone``) of every week touching ``first``..``last``."""
    monday = first - timedelta(days=first.weekday())
    starts: list[datetime] = []
    while monday <= last:
        starts.append(datetime.combine(monday, time(0), tzinfo=zone))
        monday += timedelta(days=7)
    return starts


@dataclass(frozen=True)
class RankInput:
    key: str
    label: str
    on_time: float | None
    violations: int
    complaints: int


@dataclass(frozen=True)
class Ranked:
    rank: int | None  # None: nothing was due, so there is nothing to rank
    key: str
    label: str
    on_time: float | None
    violations: int
    complaints: int
    per_complaint: float | None


def rank(entries: Sequence[RankInput]) -> list[Ranked]:
    """R15 ranking: on-time share (higher first), then violations per complaint (fewer first).

    Equal keys share a rank and the next rank skips (1, 1, 3); ties, and the unrankable entries listed
    last without a rank, keep the order given (the directory's).
    """
    rows = [
        Ranked(None, e.key, e.label, e.on_time, e.violations, e.complaints, share(e.violations, e.complaints))
        for e in entries
    ]
    rankable = sorted((r for r in rows if r.on_time is not None), key=_merit)
    ranked: list[Ranked] = []
    for position, row in enumerate(rankable, start=1):
        tied = ranked and _merit(ranked[-1]) == _merit(row)
        number = ranked[-1].rank if tied and ranked[-1].rank else position
        ranked.append(Ranked(number, *_fields(row)))
    return ranked + [r for r in rows if r.on_time is None]


def _merit(row: Ranked) -> tuple[float, float]:
    return (-(row.on_time or 0.0), row.per_complaint or 0.0)


def _fields(row: Ranked) -> tuple[str, str, float | None, int, int, float | None]:
    return (row.key, row.label, row.on_time, row.violations, row.complaints, row.per_complaint)
