"""A real Prefect server for end-to-end tests: the same local server `complaintflow serve` starts,
with its own home and SQLite database, once per test session (first start 14-21 s here)."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.settings import PREFECT_API_URL, PREFECT_LOGGING_TO_API_ENABLED, temporary_settings

from app.prefect_server import free_port, start_prefect_server


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home: Path = tmp_path_factory.mktemp("prefect")
    server = start_prefect_server(home, port=free_port())
    try:
        # Logs stay local: the server stops before the last log batch would reach it.
        with temporary_settings(updates={PREFECT_API_URL: server.url, PREFECT_LOGGING_TO_API_ENABLED: False}):
            yield server.url
    finally:
        server.stop()
