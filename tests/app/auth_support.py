"""Signing test clients in with real accounts: created in the database, signed in through ``POST /login``."""

import re
import uuid

from fastapi.testclient import TestClient

from flows.admin.accounts import create_account, find_account, issue_api_token
from flows.runtime.assembly import Runtime

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_account(runtime: Runtime, role: str, username: str | None = None, person: str | None = None) -> str:
    """A new active account with ``role`` and the password ``PASSWORD``; returns its username."""
    name = username or f"{role}-{uuid.uuid4().hex[:8]}"
    with runtime.sessions.begin() as session:
        create_account(
            session, username=name, password=PASSWORD, role=role, display_name=f"Test {role}",
            now=runtime.clock.now(), person=person,
        )  # fmt: skip
    return name


def csrf_token(client: TestClient, path: str = "/login") -> str:
    """The CSRF token of the form at ``path`` (the client keeps the matching cookie)."""
    found = _CSRF.search(client.get(path).text)
    assert found, f"no CSRF token in {path}"
    return found.group(1)


def sign_in(client: TestClient, runtime: Runtime, role: str, username: str | None = None) -> str:
    """Create an account with ``role`` (or use ``username`` if it exists) and sign ``client`` in as it."""
    with runtime.sessions() as session:
        exists = username is not None and find_account(session, username) is not None
    name = username if exists and username else make_account(runtime, role, username)
    response = client.post(
        "/login",
        data={"username": name, "password": PASSWORD, "csrf_token": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303, f"sign-in as {name} failed: {response.status_code}"
    return name


def api_token(runtime: Runtime, role: str) -> str:
    """A bearer token for a new account with ``role``."""
    name = make_account(runtime, role)
    with runtime.sessions.begin() as session:
        account = find_account(session, name)
        assert account is not None
        return issue_api_token(session, account_id=account.id, name="tests", now=runtime.clock.now())
