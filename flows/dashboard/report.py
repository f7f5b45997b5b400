"""The dashboard (R12, R15): how each department meets its obligations, how fast complaints are answered
and resolved, violations week by week, what is still unresolved, and the department ranking.

A period is whole local days in the active policy's zone (weeks start on local Mondays). Definitions:

- an obligation counts when it is due in the period and settled: met (done by its due time), late (done
  after it) or missed (still not done). Open ones are not due yet; cancelled and handed-over ones were
  never owed by that person, so neither counts;
- an obligation belongs to the department its owner was in, in the org snapshot the complaint pinned;
  a complaint belongs to the department of whoever owed its first obligation (R16: who receives a
  problem owns it);
- response time is received → first step done, resolution time received → last resolution, for
  complaints received in the period;
- violations count by their due time, unless an auditor waived them;
- unresolved complaints are all those received before the period's end and not resolved now;
- the ranking orders departments by on-time share, then by violations per complaint they owed
  something in (R15); a department with nothing due is listed unranked.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from flows.dashboard.departments import UNASSIGNED
from flows.dashboard.names import Snapshots
from flows.dashboard.queries import (
    Handling,
    complaints_per_department,
    handling_times,
    obligation_counts,
    open_complaints,
    snapshots,
    violation_weeks,
)
from flows.dashboard.rows import OnTime, Times, Unresolved, WeekCount
from flows.dashboard.stats import AGE_BOUNDS, Ranked, bucket_counts, week_starts
from flows.dashboard.tables import Tables
from flows.registry import PolicyRegistry
from models.timeutil import FIRST_DAY, LAST_DAY, day_in_range

DEFAULT_DAYS = 90
MAX_DAYS = 731  # two years: a yearly review against the year before, and bounded work for the queries
_OUTCOME = {"met": 0, "late": 1, "overdue": 2}


class PeriodInvalid(ValueError):
    """The requested dates do not make a period (it ends before it starts, is too long, or lies
    outside ``FIRST_DAY``..``LAST_DAY``)."""


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self.zone)

    @property
    def weeks(self) -> list[datetime]:
        return week_starts(self.first, self.last, self.zone)


def period_for(now: datetime, zone: ZoneInfo, first: date | None = None, last: date | None = None) -> Period:
    """The period asked for; by default the last 90 days up to today (local), today included."""
    for day in (first, last):
        if day is not None and not in_range(day):
            raise PeriodInvalid(f"{day} is outside the days a period may cover ({FIRST_DAY} to {LAST_DAY})")
    last = last or now.astimezone(zone).date()
    first = first or max(last - timedelta(days=DEFAULT_DAYS), FIRST_DAY)
    if first > last:
        raise PeriodInvalid(f"the period starts ({first}) after it ends ({last})")
    if (last - first).days >= MAX_DAYS:
        raise PeriodInvalid(f"the period is longer than {MAX_DAYS} days")
    return Period(first, last, zone)


def in_range(day: date) -> bool:
    """Whether a period may start or end on ``day``."""
    return day_in_range(day)


@dataclass(frozen=True)
class Dashboard:
    period: Period
    now: datetime
    department: str | None  # the filter; None = every department
    departments: tuple[tuple[str, str], ...]  # every department known, (id, name), in display order
    by_department: tuple[OnTime, ...]
    by_step: tuple[OnTime, ...]  # the shown departments together
    by_department_step: tuple[OnTime, ...]
    response: tuple[Times, ...]  # first row: every shown department together
    resolution: tuple[Times, ...]
    weeks: tuple[date, ...]
    violations: tuple[WeekCount, ...]  # weeks and departments with at least one violation
    unresolved: tuple[Unresolved, ...]  # oldest first
    unresolved_ages: tuple[int, ...]  # how many per AGE_BOUNDS bucket
    ranking: tuple[Ranked, ...]  # every department, whatever the filter


def build_dashboard(
    session: Session, registry: PolicyRegistry, period: Period, now: datetime, department: str | None = None
) -> Dashboard:
    snaps = Snapshots(session, registry)
    counts = _count(session, snaps, period)
    received, still_open = _complaints(session, snaps, period, now)
    tables = Tables(snaps, department)
    on_time = tables.on_time(counts.tallies)
    unresolved = tables.unresolved(still_open)
    departments = [snaps.department(h.org_hash, h.owner) for h in received]
    return Dashboard(
        period=period,
        now=now,
        department=department,
        departments=tuple(tables.departments(key for key, _ in counts.tallies)),
        by_department=tuple(on_time[0]),
        by_step=tuple(on_time[1]),
        by_department_step=tuple(on_time[2]),
        response=tuple(tables.times(_durations(snaps, received, lambda h: h.response), departments)),
        resolution=tuple(tables.times(_durations(snaps, received, lambda h: h.resolution), departments)),
        weeks=tuple(w.date() for w in period.weeks),
        violations=tuple(tables.violations(counts.per_week, period.weeks)),
        unresolved=tuple(unresolved),
        unresolved_ages=tuple(bucket_counts([u.age for u in unresolved], AGE_BOUNDS)),
        ranking=tuple(tables.ranking(counts.tallies, counts.per_week, counts.complaints)),
    )


@dataclass
class _Counts:
    tallies: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # (department, step) → outcomes
    per_week: Counter[tuple[int, str]] = field(default_factory=Counter)  # (week, department) → violations
    complaints: Counter[str] = field(default_factory=Counter)  # department → complaints it owed something in


def _count(session: Session, snaps: Snapshots, period: Period) -> _Counts:
    """The grouped counts, per org snapshot in use, added up per department."""
    pinned = snapshots(session)
    for version, org_hash in pinned:
        snaps.learn(version, org_hash)
    orgs = sorted({org_hash for _, org_hash in pinned})
    start, end = period.start, period.end
    counts = _Counts()
    for org_hash in orgs:
        only = org_hash if len(orgs) > 1 else None  # one snapshot: every complaint, no join needed
        for row in obligation_counts(session, start, end, only):
            key = (snaps.department(org_hash, row.owner), row.step)
            counts.tallies.setdefault(key, [0, 0, 0])[_OUTCOME[row.status]] += row.count
        for week in violation_weeks(session, start, end, period.weeks, only):
            counts.per_week[week.week, snaps.department(org_hash, week.owner)] += week.count
        owners = snaps.owners(org_hash)
        for department, count in complaints_per_department(session, start, end, only, owners).items():
            counts.complaints[department or UNASSIGNED] += count
    return counts


def _complaints(
    session: Session, snaps: Snapshots, period: Period, now: datetime
) -> tuple[list[Handling], list[Unresolved]]:
    """Complaints received in the period (with their times), and every complaint still unresolved."""
    received = handling_times(session, period.start, period.end)
    still_open = []
    for c in open_complaints(session, period.end):
        owner = snaps.department(c.org_hash, c.owner)
        age = (now - c.received_at).total_seconds()
        still_open.append(Unresolved(c.id, owner, snaps.department_name(owner), c.received_at, age))
    return received, still_open


def _durations(
    snaps: Snapshots, received: list[Handling], which: Callable[[Handling], float | None]
) -> list[tuple[str, float]]:
    """(department, seconds) for each complaint that has the duration."""
    found = []
    for handling in received:
        seconds = which(handling)
        if seconds is not None:
            # A step recorded as done before the complaint was logged (a call noted afterwards) took no time.
            found.append((snaps.department(handling.org_hash, handling.owner), max(0.0, seconds)))
    return found
