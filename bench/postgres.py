"""A throwaway PostgreSQL cluster for benchmarks, started by the same script the tests use."""

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, make_url

from app.prefect_server import free_port

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "postgres"


@contextlib.contextmanager
def cluster() -> Iterator[str]:
    """The URL of the maintenance database of a fresh cluster; stopped and removed afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="cf-bench-pg-"))
    started = subprocess.run(  # noqa: S603 - our own scripts/postgres
        [str(SCRIPT), "start", str(directory), str(free_port())], capture_output=True, text=True, check=True
    )
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run([str(SCRIPT), "stop", str(directory)], capture_output=True, check=False)  # noqa: S603
        shutil.rmtree(directory, ignore_errors=True)


def database(server_url: str, name: str) -> str:
    """Create database ``name`` on the cluster and return its URL."""
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)
