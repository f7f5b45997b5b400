"""Recorded complaints for the dashboard tests, built through the runtime on a fake clock.

``record_week`` is the small week the dashboard's numbers are worked out by hand for (see
``tests/flows/dashboard/test_report.py``); ``record_weeks`` is a larger, realistic spread over several weeks
and departments for the page and the screenshots.
"""

from datetime import datetime, timedelta

from flows.clock import FakeClock
from flows.intake.store import NewComplaint, accept_complaint
from flows.records.events import append_event
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from models.complaint import Channel
from models.events import Resolved, StepDone
from tests.factories import TOKYO

DAY = datetime(2026, 4, 1, tzinfo=TOKYO)  # a Wednesday
LOOK = datetime(2026, 4, 2, 9, 0, tzinfo=TOKYO)
# The clinic org: who hears complaints in each department, and their supervisor (the handler).
HEARERS = {"checkup": ("tanaka", "sato"), "clinic": ("suzuki", "kobayashi"), "care": ("takahashi", "kato")}


def at(hour: int, minute: int, day: datetime = DAY) -> datetime:
    return day.replace(hour=hour, minute=minute)


def complaint(runtime: Runtime, clock: FakeClock, when: datetime, heard_by: str) -> str:
    clock.set(when)
    new = NewComplaint(channel=Channel.PHONE, heard_by=heard_by, subject="受付の対応")
    return accept_complaint(runtime.sessions, runtime.registry, clock, new)


def done(runtime: Runtime, complaint_id: str, step: str, by: str, when: datetime, to: str | None) -> None:
    event = StepDone(complaint=complaint_id, at=when, step=step, by=by, to=to)
    with runtime.sessions.begin() as session:
        append_event(session, event, when)


def resolved(runtime: Runtime, complaint_id: str, when: datetime) -> None:
    with runtime.sessions.begin() as session:
        append_event(session, Resolved(complaint=complaint_id, at=when, by="sato"), when)


def record_week(runtime: Runtime, clock: FakeClock) -> tuple[str, str, str]:
    """Three complaints on Wednesday 2026-04-01, processed on Thursday 09:00 (``LOOK``)."""
    c1 = complaint(runtime, clock, at(10, 0), "tanaka")
    c2 = complaint(runtime, clock, at(10, 5), "suzuki")
    c3 = complaint(runtime, clock, at(10, 10), "takahashi")
    done(runtime, c1, "report_to_supervisor", "tanaka", at(10, 10), "sato")
    done(runtime, c1, "first_hearer_notifies_top", "tanaka", at(10, 20), "ito")
    done(runtime, c1, "apology_call", "sato", at(11, 30), None)
    done(runtime, c1, "supervisor_consults_top", "sato", at(12, 0), "ito")
    resolved(runtime, c1, at(13, 0))
    done(runtime, c3, "supervisor_consults_top", "kato", at(10, 40), "ito")
    done(runtime, c3, "report_to_supervisor", "takahashi", at(10, 50), "kato")
    done(runtime, c3, "first_hearer_notifies_top", "takahashi", at(10, 50), "ito")
    done(runtime, c3, "apology_call", "kato", at(11, 0), None)
    clock.set(LOOK)
    for complaint_id in (c1, c2, c3):
        process_complaint(runtime, complaint_id)
    return c1, c2, c3


def record_weeks(runtime: Runtime, clock: FakeClock, weeks: int = 4) -> datetime:
    """Three complaints a day for ``weeks`` weeks: 巡回健診部 is quick, 介護事業部 slower, 外来 often
    misses; about half are resolved. Returns the moment everything was processed at."""
    first = DAY - timedelta(days=7 * weeks)
    ids: list[str] = []
    for day_number in range(7 * weeks):
        day = first + timedelta(days=day_number)
        for slot, (department, (hearer, boss)) in enumerate(HEARERS.items()):
            received = at(9 + slot * 2, 0, day)
            complaint_id = complaint(runtime, clock, received, hearer)
            _handle(runtime, complaint_id, department, (hearer, boss), received, day_number)
            ids.append(complaint_id)
    clock.set(DAY + timedelta(hours=9))
    for complaint_id in ids:
        process_complaint(runtime, complaint_id)
    return clock.now()


def _handle(
    runtime: Runtime, complaint_id: str, department: str, people: tuple[str, str], received: datetime, n: int
) -> None:
    hearer, boss = people
    # Minutes after receipt each step is done (None: never); 外来 skips its reports every third day.
    delay = {"checkup": 5, "care": 25 + n % 3 * 10, "clinic": 20}[department]
    if department == "clinic" and n % 3 == 0:
        return
    done(runtime, complaint_id, "report_to_supervisor", hearer, received + timedelta(minutes=delay), boss)
    done(
        runtime,
        complaint_id,
        "first_hearer_notifies_top",
        hearer,
        received + timedelta(minutes=delay + 5),
        "ito",
    )
    done(
        runtime,
        complaint_id,
        "supervisor_consults_top",
        boss,
        received + timedelta(minutes=delay + 40),
        "ito",
    )
    done(runtime, complaint_id, "apology_call", boss, received + timedelta(minutes=delay * 4), None)
    if n % 2 == 0:
        resolved(runtime, complaint_id, received + timedelta(hours=3 + n % 5 * 7))
