"""Recording real violations for tests: complaints nobody reported, run past their deadlines."""

import asyncio
from datetime import timedelta

from flows.admin.accounts import create_account
from flows.clock import FakeClock
from flows.intake.store import NewComplaint, accept_complaint
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from flows.runtime.outbox import drain
from models.complaint import Channel

PASSWORD = "correct horse battery staple"


def unreported(runtime: Runtime, clock: FakeClock, heard_by: str = "tanaka", **fields: object) -> str:
    """A phone complaint heard by ``heard_by`` that nobody acts on: 3 hours later the clinic policy has
    recorded four violations (two by the first hearer, two by their supervisor); its mail is sent."""
    new = NewComplaint.model_validate({"channel": Channel.PHONE, "heard_by": heard_by, **fields})
    complaint = accept_complaint(runtime.sessions, runtime.registry, clock, new)
    process_complaint(runtime, complaint)
    asyncio.run(drain(runtime))
    clock.advance(timedelta(hours=3))
    process_complaint(runtime, complaint)
    asyncio.run(drain(runtime))
    return complaint


def account(runtime: Runtime, role: str, username: str) -> str:
    with runtime.sessions.begin() as session:
        create_account(
            session,
            username=username,
            password=PASSWORD,
            role=role,
            display_name=username.title(),
            now=runtime.clock.now(),
        )
    return username
