"""PostgreSQL for the fault tests: databases on a running cluster, and a cluster of a test's own that
it may stop and start again (scripts/postgres) without disturbing the suite's shared one."""

import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from sqlalchemy import create_engine, make_url

from app.prefect_server import free_port
from tests.conftest import POSTGRES_SCRIPT


def new_database(server_url: str, prefix: str, driver: str = "postgresql+psycopg") -> str:
    """Create a fresh database on the cluster of ``server_url``; its URL with ``driver``."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()
    url = make_url(server_url).set(drivername=driver, database=name)
    return url.render_as_string(hide_password=False)


class Cluster:
    """A cluster in a temporary folder on a fixed loopback port, so it comes back where it was."""

    def __init__(self) -> None:
        # Not tmp_path: pytest's temp root is private to root, and the cluster runs as "postgres".
        self.directory = Path(tempfile.mkdtemp(prefix="complaintflow-faults-pg-"))
        self.port = free_port()
        self.url = ""

    def start(self) -> str:
        """Start it (initdb the first time); the URL of its "complaintflow" database."""
        done = self._script("start", str(self.port))
        self.url = done.stdout.strip().splitlines()[-1]
        return self.url

    def stop(self) -> None:
        """Fast shutdown: every connection is cut, as in a database server restart."""
        self._script("stop")

    def remove(self) -> None:
        subprocess.run([str(POSTGRES_SCRIPT), "stop", str(self.directory)], capture_output=True, check=False)
        shutil.rmtree(self.directory, ignore_errors=True)

    def _script(self, *args: str) -> subprocess.CompletedProcess[str]:
        command = [str(POSTGRES_SCRIPT), args[0], str(self.directory), *args[1:]]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise AssertionError(f"scripts/postgres {args[0]} failed:\n{done.stderr}")
        return done
