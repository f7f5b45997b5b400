"""The runtime agrees with ``simulate`` on random policies and histories (tests/strategies.py).

Each example writes a generated policy and its org directory to a folder, builds the runtime
``serve`` builds on a fresh SQLite database and a real SMTP sink, and replays the history on a fake
clock: at every event time and every wake-up the runtime asks for, events go in through intake and
the event log, due complaints are processed and the outbox is drained. Then the database must hold
exactly the violations ``simulate`` reports for the same events and end time (keys, actors, due and
detection times, penalties) and the obligations it ends with, the outbox one row per recipient of
each notification it says was due, and the sink one mail per row. A few examples run each wake-up as
a real Prefect flow run instead (``run_complaint`` against a local Prefect server).
"""

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from flows.clock import FakeClock
from flows.intake.store import NewComplaint, accept_complaint
from flows.records.events import append_event
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from flows.runtime.complaint_flow import run_complaint
from flows.runtime.outbox import drain
from models.db import migrate
from models.events import ComplaintReceived, Event
from models.tables import ComplaintRow, ObligationRow, OutboxRow, ViolationRow
from notifiers.outbound.sink import MailSink
from notifiers.outbound.templates import TemplateStore
from policies.engine.simulate import Simulation, simulate
from tests.e2e.conftest import prefect_api  # noqa: F401 - the session's Prefect server, for the flow variant
from tests.factories import REPO
from tests.runtime_support import make_runtime
from tests.strategies import STEP_IDS, GeneratedPolicy, History, histories, policies

SHIPPED_TEMPLATES = REPO / "policies" / "templates"
RUNTIME = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@dataclass
class Shared:
    """What the examples share: a migrated empty database to copy, and one template store (the
    shipped templates plus one for each step a generated policy may have), compiled once as in a
    long-running process."""

    root: Path
    empty_db: Path
    templates: TemplateStore
    count: int = 0

    def folder(self) -> Path:
        self.count += 1
        folder = self.root / f"example-{self.count}"
        folder.mkdir()
        shutil.copy(self.empty_db, folder / "cf.db")
        return folder


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    root = tmp_path_factory.mktemp("fuzz-runtime")
    empty = root / "empty.db"
    migrate(f"sqlite:///{empty}")
    templates = root / "templates"
    shutil.copytree(SHIPPED_TEMPLATES, templates)
    for name in [*STEP_IDS, "shared_step"]:
        for language in ("ja", "zh", "en"):
            body = f'{{% extends "{language}/_step.j2" %}}{{% block todo %}}{name}{{% endblock %}}\n'
            (templates / language / f"{name}.j2").write_text(body, encoding="utf-8")
    return Shared(root, empty, TemplateStore(templates))


@dataclass
class Replay:
    """Replays a history into a runtime; ``ids`` maps the history's complaint ids to the runtime's."""

    runtime: Runtime
    clock: FakeClock
    history: History
    ids: dict[str, str] = field(default_factory=dict)

    def events(self) -> list[Event]:
        """The history's events under the ids the runtime gave the complaints."""
        return [e.model_copy(update={"complaint": self.ids[e.complaint]}) for e in self.history.events]

    def run(self, process: Callable[[list[str]], None]) -> None:
        """Stop at every event time and every wake-up up to ``until``, as ``simulate`` does."""
        pending = sorted(self.history.events, key=lambda e: e.at)
        while True:
            moments = [t for t in (pending[0].at if pending else None, self._next_wake()) if t is not None]
            if not moments or min(moments) > self.history.until:
                return
            moment = min(moments)
            self.clock.set(moment)
            while pending and pending[0].at == moment:
                self._record(pending.pop(0))
            process(self._due(moment))

    def _record(self, event: Event) -> None:
        if isinstance(event, ComplaintReceived):
            details = NewComplaint.model_validate(event.model_dump(include=set(NewComplaint.model_fields)))
            runtime = self.runtime
            self.ids[event.complaint] = accept_complaint(
                runtime.sessions, runtime.registry, self.clock, details
            )
            return
        with self.runtime.sessions.begin() as session:
            append_event(session, event.model_copy(update={"complaint": self.ids[event.complaint]}), event.at)

    def _next_wake(self) -> datetime | None:
        with self.runtime.sessions() as session:
            wakes = [w for w in session.scalars(select(ComplaintRow.wake_at)) if w is not None]
        return min(wakes, default=None)

    def _due(self, now: datetime) -> list[str]:
        with self.runtime.sessions() as session:
            return sorted(session.scalars(select(ComplaintRow.id).where(ComplaintRow.wake_at <= now)))


def _process_directly(runtime: Runtime) -> Callable[[list[str]], None]:
    """What a flow run does, without Prefect: record what is due, then send what that queued."""

    def process(due: list[str]) -> None:
        for complaint_id in due:
            process_complaint(runtime, complaint_id)
        asyncio.run(drain(runtime))

    return process


def _process_in_prefect(runtime: Runtime, policy_id: str) -> Callable[[list[str]], None]:
    def process(due: list[str]) -> None:
        for complaint_id in due:
            with runtime.sessions() as session:
                row = session.get(ComplaintRow, complaint_id)
                assert row is not None
                version = row.policy_version
            asyncio.run(run_complaint(complaint_id, policy_id, version))

    return process


def _replay(
    generated: GeneratedPolicy, history: History, shared: Shared, sink: MailSink, *, prefect: bool
) -> tuple[Replay, Simulation]:
    folder = shared.folder()
    clock = FakeClock(history.start)
    runtime = make_runtime(f"sqlite:///{folder / 'cf.db'}", sink, clock, policy=generated.write(folder))
    runtime.templates = shared.templates
    sink.clear()  # the examples of a test share the sink
    replay = Replay(runtime, clock, history)
    policy, org = generated.compiled
    replay.run(_process_in_prefect(runtime, policy.id) if prefect else _process_directly(runtime))
    return replay, simulate(policy, org, replay.events(), history.until)


def _stored_part(message_id: str) -> str:
    """A Message-ID as stored: the sent one has a reply token joined to its left-hand side."""
    return message_id.strip("<>").split("@")[0].split(".")[0]


def _assert_agrees(replay: Replay, simulated: Simulation, sink: MailSink) -> None:
    with replay.runtime.sessions() as session:
        versions = set(session.scalars(select(ComplaintRow.policy_version)))
        violations = session.scalars(select(ViolationRow)).all()
        obligations = session.scalars(select(ObligationRow)).all()
        outbox = session.scalars(select(OutboxRow)).all()
    assert versions == {simulated.policy.version}
    assert sorted(
        (v.key, v.complaint_id, v.step, v.occurrence, v.actor, v.due_at, v.detected_at, v.penalty)
        for v in violations
    ) == sorted(
        (v.key, v.complaint, v.step, v.occurrence, v.actor, v.due_at, d.detected_at, v.penalty)
        for d in simulated.violations
        for v in [d.violation]
    )
    assert sorted((o.key, o.actor, o.due_at, o.status, o.done_at) for o in obligations) == sorted(
        (o.key, o.actor, o.due_at, o.status.value, o.done_at) for o in simulated.obligations
    )
    expected = [(f"{n.key}/{to}", n.kind.value, n.step, to) for n in simulated.notifications for to in n.to]
    assert sorted((r.key, r.kind, r.step, r.recipient) for r in outbox) == sorted(expected)
    assert {r.status for r in outbox} <= {"sent"}, [(r.key, r.status, r.last_error) for r in outbox]
    sent = sorted(_stored_part(m.message["Message-ID"]) for m in sink.messages())
    assert sent == sorted(_stored_part(r.message_id) for r in outbox)


@RUNTIME
@given(data=st.data())
def test_the_runtime_records_and_sends_what_simulate_finds(
    shared: Shared, sink: MailSink, data: st.DataObject
) -> None:
    generated = data.draw(policies(), label="policy")
    history = data.draw(
        histories(generated, max_events=5, span_minutes=12 * 60, tail_minutes=60), label="history"
    )
    replay, simulated = _replay(generated, history, shared, sink, prefect=False)
    _assert_agrees(replay, simulated, sink)


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
@settings(RUNTIME, max_examples=3)
@given(data=st.data())
def test_the_prefect_flow_records_and_sends_what_simulate_finds(
    shared: Shared, sink: MailSink, data: st.DataObject
) -> None:
    generated = data.draw(policies(max_steps=3), label="policy")
    history = data.draw(
        histories(generated, max_complaints=1, max_events=3, span_minutes=4 * 60, tail_minutes=60),
        label="history",
    )
    replay, simulated = _replay(generated, history, shared, sink, prefect=True)
    _assert_agrees(replay, simulated, sink)
