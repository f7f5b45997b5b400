"""Fixtures for the runtime tests: a runtime on a fake clock over each database."""

import pytest

from flows.clock import FakeClock
from flows.runtime.assembly import Runtime
from notifiers.outbound.sink import MailSink
from tests.runtime_support import START, make_runtime


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def runtime(database_url: str, sink: MailSink, clock: FakeClock) -> Runtime:
    return make_runtime(database_url, sink, clock)
