"""Building a runtime for tests: real database and SMTP sink, a fake clock, the shipped templates."""

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flows.clock import FakeClock
from flows.links import ActionLinks
from flows.registry import PolicyRegistry
from flows.runtime import Runtime, install
from models.db import make_engine, make_sessions
from notifiers.sink import MailSink
from notifiers.smtp import SmtpSettings
from notifiers.templates import TemplateStore
from tests.factories import REPO

CLINIC = REPO / "policies" / "keieikai_clinic.yaml"
START = datetime(2026, 4, 1, 10, 0, tzinfo=ZoneInfo("Asia/Tokyo"))


def make_runtime(database_url: str, sink: MailSink, clock: FakeClock, policy: Path = CLINIC) -> Runtime:
    sessions = make_sessions(make_engine(database_url))
    registry = PolicyRegistry(sessions)
    registry.activate(policy)
    assert registry.templates is not None
    return install(
        Runtime(
            sessions=sessions,
            registry=registry,
            templates=TemplateStore(registry.templates),
            links=ActionLinks("test-secret-" + "x" * 32, "http://testserver", timedelta(hours=72)),
            clock=clock,
            smtp=SmtpSettings(host="127.0.0.1", port=sink.port, timeout=5),
            mail_from="complaints@keieikai.example",
            base_url="http://testserver",
        )
    )
