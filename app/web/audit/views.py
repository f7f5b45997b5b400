"""What the violation log page shows: its filter (from the query string), the choices offered for each
filter, and each row with names from the org snapshot and titles from the policy version it ran under.

Dates in the filter are days in the active policy's time zone (the clinic's calendar days); each row's
times are shown in the zone of the policy it was recorded under.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.audit.export import STATUSES, ViolationFilter
from flows.registry import PolicyRegistry
from models.org import Org
from models.tables import OrgSnapshotRow, PolicyVersionRow, ViolationRow
from models.timeutil import day_in_range

FORMAT = "%Y-%m-%d %H:%M %Z"
FILTERS = ("person", "department", "step", "version", "status", "due_from", "due_to")
MAX_VALUE = 100  # a longer filter value is not an id of ours


@dataclass(frozen=True)
class Choices:
    people: tuple[tuple[str, str], ...]  # (id, name), from every stored org snapshot
    departments: tuple[tuple[str, str], ...]
    steps: tuple[tuple[str, str], ...]  # (id, title), from every stored policy version
    versions: tuple[tuple[str, str], ...]  # (version, policy name)
    statuses: tuple[str, ...] = STATUSES


def choices(session: Session) -> Choices:
    people: dict[str, str] = {}
    departments: dict[str, str] = {}
    for (document,) in session.execute(select(OrgSnapshotRow.document)):
        org = Org.model_validate_json(document)
        people.update((p.id, p.name) for p in org.people)
        departments.update((d.id, d.name) for d in org.departments)
    steps: dict[str, str] = {}
    versions: list[tuple[str, str]] = []
    for row in session.scalars(select(PolicyVersionRow).order_by(PolicyVersionRow.created_at)):
        spec = json.loads(row.document)
        steps.update((s["id"], s["title"]) for s in spec.get("steps", ()))
        versions.append((row.version, row.name))
    return Choices(
        people=tuple(sorted(people.items())),
        departments=tuple(sorted(departments.items())),
        steps=tuple(sorted(steps.items())),
        versions=tuple(versions),
    )


def due_bounds(due_from: date | None, due_to: date | None, zone: ZoneInfo) -> tuple[datetime | None, ...]:
    """The due-time range for days in ``zone``: from the first day's start to the end of the last."""
    start = datetime.combine(due_from, time(), zone) if due_from else None
    end = datetime.combine(due_to + timedelta(days=1), time(), zone) if due_to else None
    return start, end


def read_filter(params: Mapping[str, str], zone: ZoneInfo) -> tuple[ViolationFilter, dict[str, str], bool]:
    """(the filter, the values as given (for the form and the export links), whether a date was bad)."""
    values = {name: params.get(name, "").strip()[:MAX_VALUE] for name in FILTERS}
    days: list[date | None] = []
    bad = False
    for name in ("due_from", "due_to"):
        try:
            day = date.fromisoformat(values[name]) if values[name] else None
        except ValueError:
            day = None
            bad = True
        if day is not None and not day_in_range(day):
            day, bad = None, True  # its midnight may have no UTC time, or no day after it
        days.append(day)
    since, until = due_bounds(days[0], days[1], zone)
    where = ViolationFilter(
        actor=values["person"] or None,
        department=values["department"] or None,
        step=values["step"] or None,
        policy_version=values["version"] or None,
        status=values["status"] or None,
        due_since=since,
        due_until=until,
    )
    return where, values, bad


@dataclass(frozen=True)
class LogRow:
    key: str
    complaint: str
    step: str
    step_title: str
    actor: str
    actor_name: str | None
    department: str | None
    due: str
    detected: str
    penalty: str | None  # the penalty's name in that policy version
    status: str
    version: str


def log_rows(
    session: Session, registry: PolicyRegistry, found: list[tuple[ViolationRow, str]]
) -> list[LogRow]:
    rows = []
    for v, org_hash in found:
        pinned = registry.pinned(session, v.policy_version, org_hash)
        policy, org, zone = pinned.policy, pinned.org, pinned.policy.calendar.zone
        step, person, penalty = policy.step(v.step), org.person(v.actor), policy.penalty(v.penalty)
        department = org.department(person.department) if person and person.department else None
        rows.append(
            LogRow(
                key=v.key,
                complaint=v.complaint_id,
                step=v.step,
                step_title=step.title if step else v.step,
                actor=v.actor,
                actor_name=person.name if person else None,
                department=department.name if department else None,
                due=f"{v.due_at.astimezone(zone):{FORMAT}}",
                detected=f"{v.detected_at.astimezone(zone):{FORMAT}}",
                penalty=penalty.name if penalty else v.penalty,
                status=v.status,
                version=v.policy_version,
            )
        )
    return rows
