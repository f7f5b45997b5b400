"""``complaintflow accounts add|list|disable|password|token|revoke-token``: how administrators start.

Passwords come from ``--password-stdin`` (one line) or are asked twice on the terminal; with neither a
terminal nor the flag the command refuses rather than invent one. A new API token is printed once.
Exit codes: 0 done, 1 refused (taken username, short password, unknown account), 2 usage errors.
"""

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy.orm import Session

from flows.admin import accounts
from flows.admin.accounts import Role
from flows.clock import SystemClock
from flows.errors import RuntimeProblem
from flows.settings import load_settings
from models.db import make_engine, make_sessions, migrate

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="TOML settings file (COMPLAINTFLOW_* variables override it).")
]
PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from standard input (one line).")
]
accounts_app = typer.Typer(
    no_args_is_help=True, help="Sign-in accounts (admin, auditor, staff) and API tokens."
)


@contextmanager
def _transaction(config: Path | None) -> Iterator[Session]:
    """A session on the configured database (migrated first: this may run before the first ``serve``)."""
    try:
        settings = load_settings(config)
    except (ValidationError, RuntimeProblem) as exc:
        typer.echo(f"complaintflow: bad settings: {exc}", err=True)
        raise typer.Exit(2) from exc
    migrate(settings.database)
    engine = make_engine(settings.database)
    try:
        with make_sessions(engine).begin() as session:
            yield session
    except accounts.AccountProblem as exc:
        typer.echo(f"complaintflow: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        typer.echo("complaintflow: no terminal to ask for the password: use --password-stdin", err=True)
        raise typer.Exit(2)
    first = getpass.getpass("Password: ")
    if getpass.getpass("Same password again: ") != first:
        typer.echo("complaintflow: the passwords differ", err=True)
        raise typer.Exit(1)
    return first


@accounts_app.command("add")
def add(
    username: str,
    *,
    role: Annotated[Role, typer.Option("--role", help="admin, auditor or staff.")],
    name: Annotated[
        str, typer.Option("--name", help="The name shown on pages (default: the username).")
    ] = "",
    person: Annotated[
        str | None, typer.Option("--person", help="The org person id a staff account acts as.")
    ] = None,
    password_stdin: PasswordStdin = False,
    config: ConfigOption = None,
) -> None:
    """Create an account."""
    password = _read_password(password_stdin)
    with _transaction(config) as session:
        account = accounts.create_account(
            session, username=username, password=password, role=role, display_name=name or username,
            now=SystemClock().now(), person=person,
        )  # fmt: skip
        typer.echo(f"created {account.role} account {account.username}")


@accounts_app.command("list")
def list_accounts(config: ConfigOption = None) -> None:
    """Every account: username, role, active or disabled, linked person, live API tokens, name."""
    with _transaction(config) as session:
        for account in accounts.list_accounts(session):
            live = [t.name for t in accounts.list_api_tokens(session, account.id) if t.revoked_at is None]
            state = "active" if account.active else "disabled"
            tokens = ",".join(live) or "-"
            fields = (
                account.username,
                account.role,
                state,
                account.person or "-",
                tokens,
                account.display_name,
            )
            typer.echo("\t".join(fields))


@accounts_app.command("disable")
def disable(username: str, config: ConfigOption = None) -> None:
    """Disable an account: it can no longer sign in, and its sessions and API tokens stop working."""
    with _transaction(config) as session:
        accounts.disable_account(session, username)
    typer.echo(f"disabled {accounts.normalise_username(username)}")


@accounts_app.command("password")
def password(username: str, password_stdin: PasswordStdin = False, config: ConfigOption = None) -> None:
    """Set a new password for an account."""
    new = _read_password(password_stdin)
    with _transaction(config) as session:
        accounts.set_password(session, username, new)
    typer.echo(f"password of {accounts.normalise_username(username)} changed")


@accounts_app.command("token")
def token(
    username: str,
    name: Annotated[str, typer.Option("--name", help="What the token is for (shown in lists).")],
    config: ConfigOption = None,
) -> None:
    """Issue an API token acting as the account; it is printed this once and never shown again."""
    with _transaction(config) as session:
        account = accounts.find_account(session, username)
        if account is None or not account.active:
            raise accounts.AccountProblem("no_account", f"no active account {username}")
        secret = accounts.issue_api_token(session, account_id=account.id, name=name, now=SystemClock().now())
    typer.echo(secret)


@accounts_app.command("revoke-token")
def revoke_token(
    username: str,
    name: Annotated[str, typer.Option("--name", help="The name the token was issued with.")],
    config: ConfigOption = None,
) -> None:
    """Revoke the account's live API tokens with this name."""
    with _transaction(config) as session:
        revoked = accounts.revoke_api_tokens_named(session, username, name, SystemClock().now())
    if revoked == 0:
        typer.echo(f"complaintflow: {username} has no live token named {name}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {revoked} token(s) named {name}")
