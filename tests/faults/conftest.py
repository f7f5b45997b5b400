"""Fixtures of the fault tests: the `faults` marker, and one Prefect server on PostgreSQL that the
tests share; the test that kills it starts it again on the same port and database."""

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.prefect_server import PrefectServer, free_port, start_prefect_server
from tests.faults.cluster import new_database


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "faults: process-level fault tests (real processes killed and restarted, real seconds)"
    )


@dataclass
class PrefectService:
    """A `prefect server` process on its own PostgreSQL database, as scale-out mode runs it."""

    home: Path
    port: int
    database_url: str
    server: PrefectServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    def start(self) -> None:
        """Start it (first start 15-30 s: its migrations; later starts 5-10 s)."""
        self.server = start_prefect_server(self.home, self.port, self.database_url)

    def running(self) -> bool:
        return self.server is not None and self.server.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: runs in flight lose their API mid-call."""
        assert self.server is not None
        self.server.process.kill()
        self.server.process.wait(timeout=10)

    def stop(self) -> None:
        if self.running() and self.server is not None:
            self.server.stop()


@pytest.fixture(scope="session")
def prefect(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectService]:
    database = new_database(postgres_url, "prefect", "postgresql+asyncpg")
    service = PrefectService(tmp_path_factory.mktemp("prefect"), free_port(), database)
    service.start()
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture
def prefect_api(prefect: PrefectService) -> str:
    """The shared server's API URL, running (a test that killed it must have started it again)."""
    assert prefect.running(), "a previous test left the shared Prefect server down"
    return prefect.url
