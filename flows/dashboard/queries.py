"""The dashboard's SQL: counts grouped in the database, one row per complaint only where times are needed.

Departments live in the org snapshots (JSON), so counts are grouped by owner and mapped to departments
afterwards: 100,000 obligations come back as a few dozen rows. Each query runs once per org snapshot
in use, restricted to that snapshot's complaints only when there is more than one (``org=None``: all
complaints, no join). Complaints per department (each counted once, however many of its people owed
something) need the department in SQL: the snapshot's owner → department table is joined as a
``VALUES`` list. Response and resolution times need every complaint's own times (percentiles cannot
be summed), so those come back one row per complaint, as seconds the database computes, found by
correlated subqueries on the indexed ``complaint_id``.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Float,
    ScalarSelect,
    String,
    Subquery,
    and_,
    case,
    cast,
    extract,
    func,
    literal_column,
    select,
    text,
    true,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from models.tables import ComplaintRow, EventRow, ObligationRow, ViolationRow

SETTLED = ("met", "late", "overdue")  # open ones are not due yet; cancelled and handed-over ones never were
WAIVED = "waived"  # an auditor waived it: it does not count against anyone


@dataclass(frozen=True)
class ObligationCount:
    step: str
    owner: str
    status: str
    count: int


@dataclass(frozen=True)
class WeekCount:
    owner: str
    week: int  # index into the period's week starts
    count: int


@dataclass(frozen=True)
class Handling:
    """How fast a complaint received in the period was answered and resolved, and who owned it."""

    org_hash: str
    owner: str | None  # who owed the complaint's first obligation
    response: float | None  # seconds from receipt to the first step done; None: none done yet
    resolution: float | None  # seconds from receipt to the last resolution; None: not resolved


@dataclass(frozen=True)
class OpenComplaint:
    id: str
    org_hash: str
    owner: str | None
    received_at: datetime


def snapshots(session: Session) -> list[tuple[str, str]]:
    """The (policy version, org snapshot) pairs complaints are pinned to."""
    query = select(ComplaintRow.policy_version, ComplaintRow.org_hash).distinct()
    return [(version, org) for version, org in session.execute(query)]


def _of_org(complaint_id: InstrumentedAttribute[str], org: str | None) -> ColumnElement[bool]:
    if org is None:
        return true()
    return complaint_id.in_(select(ComplaintRow.id).where(ComplaintRow.org_hash == org))


def _settled_due_in(start: datetime, end: datetime, org: str | None) -> ColumnElement[bool]:
    return and_(
        ObligationRow.status.in_(SETTLED),
        ObligationRow.due_at >= start,
        ObligationRow.due_at < end,
        _of_org(ObligationRow.complaint_id, org),
    )


def obligation_counts(
    session: Session, start: datetime, end: datetime, org: str | None
) -> list[ObligationCount]:
    """Settled obligations due in ``[start, end)``, counted per step, owner and status."""
    columns = (ObligationRow.step, ObligationRow.actor, ObligationRow.status)
    query = select(*columns, func.count()).where(_settled_due_in(start, end, org)).group_by(*columns)
    return [ObligationCount(*row) for row in session.execute(query)]


def complaints_per_department(
    session: Session, start: datetime, end: datetime, org: str | None, departments: Mapping[str, str]
) -> dict[str | None, int]:
    """How many complaints each department owed something in (None: owners without a department)."""
    distinct = func.count(ObligationRow.complaint_id.distinct())
    owners = _owners_table(departments)
    if owners is None:
        return {None: session.scalar(select(distinct).where(_settled_due_in(start, end, org))) or 0}
    query = (
        select(owners.c.department, distinct)
        .outerjoin(owners, owners.c.owner == ObligationRow.actor)
        .where(_settled_due_in(start, end, org))
        .group_by(owners.c.department)
    )
    return dict(session.execute(query).tuples().all())


def _owners_table(departments: Mapping[str, str]) -> Subquery | None:
    """``departments`` as a two-column table: ``VALUES`` with bound parameters (SQLite and PostgreSQL
    both name its columns column1, column2; SQLAlchemy's ``values()`` renders a form SQLite lacks)."""
    if not departments:
        return None
    rows = ", ".join(f"(:o{i}, :d{i})" for i in range(len(departments)))
    params: dict[str, str] = {}
    for i, (owner, department) in enumerate(departments.items()):
        params[f"o{i}"], params[f"d{i}"] = owner, department
    sql = f"SELECT column1 AS owner, column2 AS department FROM (VALUES {rows}) AS owners_list"  # noqa: S608
    return text(sql).bindparams(**params).columns(owner=String, department=String).subquery("owners")


def violation_weeks(
    session: Session, start: datetime, end: datetime, weeks: Sequence[datetime], org: str | None
) -> list[WeekCount]:
    """Violations due in ``[start, end)`` and not waived, per owner and week (by due time)."""
    # Week boundaries are local Mondays computed in Python, so DST and zones need no SQL date functions;
    # the week numbers are inlined, and grouped on in an outer query, so PostgreSQL sees one expression.
    bounds = [*weeks[1:], end]
    week = case(
        *((ViolationRow.due_at < bound, literal_column(str(index))) for index, bound in enumerate(bounds)),
        else_=literal_column(str(len(bounds) - 1)),
    )
    inner = (
        select(ViolationRow.actor, week.label("week"))
        .where(
            ViolationRow.due_at >= start,
            ViolationRow.due_at < end,
            ViolationRow.status != WAIVED,
            _of_org(ViolationRow.complaint_id, org),
        )
        .subquery()
    )
    columns = (inner.c.actor, inner.c.week)
    return [WeekCount(*row) for row in session.execute(select(*columns, func.count()).group_by(*columns))]


def _first_owner() -> ScalarSelect[str]:
    """Who owed the complaint's first obligation (earliest started, then earliest due)."""
    return (
        select(ObligationRow.actor)
        .where(ObligationRow.complaint_id == ComplaintRow.id)
        .order_by(ObligationRow.started_at, ObligationRow.due_at, ObligationRow.key)
        .limit(1)
        .scalar_subquery()
    )


def _event_time(kind: str, latest: bool) -> ScalarSelect[datetime]:
    at = func.max(EventRow.at) if latest else func.min(EventRow.at)
    return select(at).where(EventRow.complaint_id == ComplaintRow.id, EventRow.type == kind).scalar_subquery()


def _seconds_since_received(session: Session, later: ColumnElement[datetime]) -> ColumnElement[float]:
    """Elapsed seconds computed by the database, so thousands of times need no parsing in Python."""
    if session.get_bind().dialect.name == "sqlite":
        # Times are stored as UTC text; julianday() reads it as day fractions: rounded to the millisecond,
        # beyond which a double's days are noise.
        days = func.julianday(later) - func.julianday(ComplaintRow.received_at)
        rounded: ColumnElement[float] = func.round(days * 86400.0, 3)
        return rounded
    elapsed: ColumnElement[float] = cast(extract("epoch", later - ComplaintRow.received_at), Float)
    return elapsed


def handling_times(session: Session, start: datetime, end: datetime) -> list[Handling]:
    """Every complaint received in ``[start, end)``: its owner and its response and resolution times."""
    resolved = case((ComplaintRow.status == "resolved", _event_time("resolved", latest=True)))
    query = select(
        ComplaintRow.org_hash,
        _first_owner(),
        _seconds_since_received(session, _event_time("step_done", latest=False)),
        _seconds_since_received(session, resolved),
    ).where(ComplaintRow.received_at >= start, ComplaintRow.received_at < end)
    return [Handling(*row) for row in session.execute(query)]


def open_complaints(session: Session, end: datetime) -> list[OpenComplaint]:
    """Every complaint received before ``end`` and not resolved now."""
    query = select(ComplaintRow.id, ComplaintRow.org_hash, _first_owner(), ComplaintRow.received_at).where(
        ComplaintRow.received_at < end, ComplaintRow.status != "resolved"
    )
    return [OpenComplaint(*row) for row in session.execute(query)]
