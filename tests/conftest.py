"""Fixtures shared across the test suite, one section per concern."""

import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url

from app.prefect_server import free_port
from models.db import migrate
from notifiers.outbound.sink import MailSink
from tests.imap_support import ImapServer

# ---------------------------------------------------------------------------------------------------
# Databases: storage tests run on SQLite and on a PostgreSQL cluster that scripts/postgres installs
# (if missing) and starts for the test run. Without PostgreSQL the tests fail: they never skip.
# ---------------------------------------------------------------------------------------------------

POSTGRES_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "postgres"
_POSTGRES_START_SECONDS = pytest.StashKey[float]()


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of the maintenance database of a PostgreSQL cluster that lives for this test run."""
    # Not tmp_path_factory: pytest's temp root is private to root, and the cluster runs as "postgres".
    directory = Path(tempfile.mkdtemp(prefix="complaintflow-pg-"))
    started = time.monotonic()
    start = subprocess.run(
        [str(POSTGRES_SCRIPT), "start", str(directory), str(free_port())],
        capture_output=True,
        text=True,
        check=False,
    )
    if start.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        # A failure, never a skip, in CI and locally alike: a green run must mean both databases passed.
        pytest.fail(f"scripts/postgres could not start PostgreSQL:\n{start.stderr}", pytrace=False)
    request.config.stash[_POSTGRES_START_SECONDS] = time.monotonic() - started
    try:
        yield start.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run([str(POSTGRES_SCRIPT), "stop", str(directory)], capture_output=True, check=False)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database migrated to the newest schema, once per backend; dropped afterwards."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'complaintflow.db'}"
        migrate(url)
        yield url
        return
    server_url: str = request.getfixturevalue("postgres_url")
    name = f"test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
        migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            # FORCE: a test that leaked a connection must not leave the database behind.
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    seconds = config.stash.get(_POSTGRES_START_SECONDS, None)
    if seconds is not None:
        terminalreporter.write_line(f"PostgreSQL for the storage tests started in {seconds:.2f} s")
    seconds = config.stash.get(_DOVECOT_START_SECONDS, None)
    if seconds is not None:
        terminalreporter.write_line(f"dovecot for the email intake tests started in {seconds:.2f} s")


# ---------------------------------------------------------------------------------------------------
# Mail: a real aiosmtpd server on loopback that stores what it receives.
# ---------------------------------------------------------------------------------------------------


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[MailSink]:
    mail = MailSink(host="127.0.0.1", port=0, store=tmp_path / "mail")
    mail.start()
    yield mail
    mail.stop()


# ---------------------------------------------------------------------------------------------------
# IMAP: a real dovecot server on loopback for the email intake tests. scripts/dovecot installs
# Debian's dovecot-imapd (if missing) and runs it with its own config file, a passwd-file user and a
# Maildir under a temporary folder. If it cannot start, the tests fail: they never skip.
# ---------------------------------------------------------------------------------------------------

DOVECOT_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "dovecot"
_DOVECOT_START_SECONDS = pytest.StashKey[float]()


@pytest.fixture(scope="session")
def imap_server(request: pytest.FixtureRequest) -> Iterator[ImapServer]:
    """One IMAP account on a dovecot that lives for this test run."""
    # Not tmp_path_factory: its root is private to root, and dovecot's mail processes run as "nobody".
    directory = Path(tempfile.mkdtemp(prefix="complaintflow-imap-"))
    server = ImapServer("127.0.0.1", free_port(), "complaints", uuid.uuid4().hex)
    started = time.monotonic()
    start = subprocess.run(
        [str(DOVECOT_SCRIPT), "start", str(directory), str(server.port), server.username, server.password],
        capture_output=True,
        text=True,
        check=False,
    )
    if start.returncode != 0:
        shutil.rmtree(directory, ignore_errors=True)
        pytest.fail(f"scripts/dovecot could not start dovecot:\n{start.stderr}", pytrace=False)
    request.config.stash[_DOVECOT_START_SECONDS] = time.monotonic() - started
    try:
        yield server
    finally:
        subprocess.run([str(DOVECOT_SCRIPT), "stop", str(directory)], capture_output=True, check=False)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def imap_folder(imap_server: ImapServer) -> str:
    """A new, empty folder on the test server: tests share the server, never a folder."""
    folder = f"test-{uuid.uuid4().hex[:12]}"
    imap_server.create(folder)
    return folder
