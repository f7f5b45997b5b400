"""``complaintflow accounts ...`` as an administrator runs it, against SQLite and PostgreSQL."""

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from app.cli.main import app
from flows.admin.accounts import authenticate, token_account
from models.db import make_engine, make_sessions
from tests.runtime_support import AUDIT_ENV

PASSWORD = "tsuki ga kirei desu ne"


@pytest.fixture
def cli(database_url: str) -> CliRunner:
    return CliRunner(
        env={
            "COMPLAINTFLOW_DATABASE_URL": database_url,
            "COMPLAINTFLOW_SECRET_KEY": "k" * 40,
            **AUDIT_ENV,
            "COMPLAINTFLOW_DEV": "0",
        }
    )


@pytest.fixture
def sessions(database_url: str) -> sessionmaker[Session]:
    return make_sessions(make_engine(database_url))


def _run(cli: CliRunner, *args: str, password: str | None = None) -> Result:
    return cli.invoke(app, ["accounts", *args], input=None if password is None else password + "\n")


def _can_sign_in(sessions: sessionmaker[Session], username: str, password: str) -> bool:
    with sessions.begin() as session:
        return authenticate(session, username, password) is not None


def test_an_admin_adds_lists_and_disables_accounts(cli: CliRunner, sessions: sessionmaker[Session]) -> None:
    added = _run(
        cli,
        "add",
        "Kobayashi",
        "--role",
        "admin",
        "--name",
        "小林 院長",
        "--password-stdin",
        password=PASSWORD,
    )
    assert added.exit_code == 0, added.output
    assert "created admin account kobayashi" in added.output
    staff = _run(
        cli, "add", "tanaka", "--role", "staff", "--person", "tanaka", "--password-stdin", password=PASSWORD
    )
    assert staff.exit_code == 0, staff.output
    assert _can_sign_in(sessions, "kobayashi", PASSWORD)

    listed = _run(cli, "list")
    assert listed.exit_code == 0
    assert listed.output.splitlines() == [
        "kobayashi\tadmin\tactive\t-\t-\t小林 院長",
        "tanaka\tstaff\tactive\ttanaka\t-\ttanaka",
    ]
    assert _run(cli, "disable", "tanaka").exit_code == 0
    assert "tanaka\tstaff\tdisabled" in _run(cli, "list").output
    assert not _can_sign_in(sessions, "tanaka", PASSWORD)
    assert _run(cli, "disable", "nobody").exit_code == 1


def test_refused_accounts_exit_1_and_no_terminal_means_no_password(
    cli: CliRunner, sessions: sessionmaker[Session]
) -> None:
    assert _run(cli, "add", "sato", "--role", "auditor", "--password-stdin", password=PASSWORD).exit_code == 0
    taken = _run(cli, "add", "sato", "--role", "staff", "--password-stdin", password=PASSWORD)
    assert taken.exit_code == 1
    assert "taken" in taken.output
    short = _run(cli, "add", "ito", "--role", "staff", "--password-stdin", password="short")
    assert short.exit_code == 1
    assert "12 characters" in short.output
    assert _run(cli, "add", "ito", "--role", "root", "--password-stdin", password=PASSWORD).exit_code == 2
    no_tty = _run(cli, "add", "ito", "--role", "staff")
    assert no_tty.exit_code == 2
    assert "--password-stdin" in no_tty.output
    assert _run(cli, "list").output.count("\n") == 1  # only sato


def test_passwords_can_be_reset(cli: CliRunner, sessions: sessionmaker[Session]) -> None:
    _run(cli, "add", "sato", "--role", "staff", "--password-stdin", password=PASSWORD)
    assert _run(cli, "password", "sato", "--password-stdin", password="a brand new passphrase").exit_code == 0
    assert _can_sign_in(sessions, "sato", "a brand new passphrase")
    assert not _can_sign_in(sessions, "sato", PASSWORD)


def test_a_token_is_printed_once_works_and_can_be_revoked(
    cli: CliRunner, sessions: sessionmaker[Session]
) -> None:
    _run(cli, "add", "robot", "--role", "auditor", "--password-stdin", password=PASSWORD)
    issued = _run(cli, "token", "robot", "--name", "nightly export")
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip()
    assert token.startswith("cf_")
    now = datetime.now(UTC)
    with sessions.begin() as session:
        account = token_account(session, token, now)
        assert account is not None
        assert account.username == "robot"
    assert "nightly export" in _run(cli, "list").output
    assert token not in _run(cli, "list").output
    assert _run(cli, "revoke-token", "robot", "--name", "nightly export").exit_code == 0
    with sessions.begin() as session:
        assert token_account(session, token, now) is None
    assert _run(cli, "revoke-token", "robot", "--name", "nightly export").exit_code == 1
    assert _run(cli, "token", "nobody", "--name", "x").exit_code == 1
