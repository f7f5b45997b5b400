"""Accounts, sessions and API tokens on SQLite and PostgreSQL, with a fake clock for expiry."""

import hashlib
from collections.abc import Iterator
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from argon2.low_level import Type
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from flows.admin import accounts
from flows.admin.accounts import SESSION_ABSOLUTE, SESSION_IDLE, AccountProblem
from flows.clock import FakeClock
from models.db import make_engine, make_sessions
from models.tables import AccountRow, ApiTokenRow, WebSessionRow
from tests.runtime_support import START

PASSWORD = "a long enough passphrase"


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_sessions(engine)
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


def _add(
    sessions: sessionmaker[Session], clock: FakeClock, username: str = "sato", role: str = "staff"
) -> int:
    with sessions.begin() as session:
        account = accounts.create_account(
            session, username=username, password=PASSWORD, role=role, display_name="佐藤", now=clock.now()
        )
        return account.id


def _signed_in(sessions: sessionmaker[Session], username: str, password: str) -> str | None:
    with sessions.begin() as session:
        account = accounts.authenticate(session, username, password)
        return account.username if account else None


def test_passwords_are_stored_as_argon2id_and_only_the_right_one_signs_in(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    _add(sessions, clock, "Sato")
    with sessions() as session:
        stored = session.scalars(select(AccountRow.password_hash)).one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert _signed_in(sessions, "sato", PASSWORD) == "sato"
    assert _signed_in(sessions, " SATO ", PASSWORD) == "sato"  # usernames are case-insensitive
    assert _signed_in(sessions, "sato", PASSWORD + "x") is None
    assert _signed_in(sessions, "nobody", PASSWORD) is None
    assert _signed_in(sessions, "sato", "x" * 5000) is None


def test_an_outdated_hash_is_replaced_at_the_next_sign_in(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    _add(sessions, clock)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID).hash(PASSWORD)
    with sessions.begin() as session:
        session.scalars(select(AccountRow)).one().password_hash = weak
    assert _signed_in(sessions, "sato", PASSWORD) == "sato"
    with sessions() as session:
        renewed = session.scalars(select(AccountRow.password_hash)).one()
    assert renewed != weak
    assert not PasswordHasher().check_needs_rehash(renewed)
    assert _signed_in(sessions, "sato", PASSWORD) == "sato"


def test_bad_accounts_are_refused_with_a_reason(sessions: sessionmaker[Session], clock: FakeClock) -> None:
    _add(sessions, clock)
    cases = {
        "username_taken": {"username": "SATO"},
        "short_password": {"username": "ito", "password": "short"},
        "unknown_role": {"username": "ito", "role": "superuser"},
        "bad_username": {"username": "../admin"},
    }
    for code, fields in cases.items():
        arguments = {"username": "x", "password": PASSWORD, "role": "staff", "display_name": "x"} | fields
        with sessions.begin() as session, pytest.raises(AccountProblem) as refused:
            accounts.create_account(session, now=clock.now(), **arguments)
        assert refused.value.code == code
    with sessions() as session:
        assert [a.username for a in accounts.list_accounts(session)] == ["sato"]


def test_a_disabled_account_cannot_sign_in_and_its_session_and_tokens_stop(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    account_id = _add(sessions, clock)
    with sessions.begin() as session:
        account = session.get(AccountRow, account_id)
        assert account is not None
        cookie = accounts.start_session(session, account, clock.now())
        token = accounts.issue_api_token(session, account_id=account_id, name="robot", now=clock.now())
    with sessions.begin() as session:
        accounts.disable_account(session, "sato")
    assert _signed_in(sessions, "sato", PASSWORD) is None
    with sessions.begin() as session:
        assert accounts.session_account(session, cookie, clock.now()) is None
        assert accounts.token_account(session, token, clock.now()) is None
        assert session.get(AccountRow, account_id) is not None  # disabled, never deleted


def _session_user(sessions: sessionmaker[Session], cookie: str, clock: FakeClock) -> str | None:
    with sessions.begin() as session:
        account = accounts.session_account(session, cookie, clock.now())
        return account.username if account else None


def _start(sessions: sessionmaker[Session], clock: FakeClock, account_id: int) -> str:
    with sessions.begin() as session:
        account = session.get(AccountRow, account_id)
        assert account is not None
        return accounts.start_session(session, account, clock.now())


def test_a_session_ends_after_idling_and_at_its_absolute_limit(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    account_id = _add(sessions, clock)
    idle = _start(sessions, clock, account_id)
    clock.advance(SESSION_IDLE - timedelta(seconds=1))
    assert _session_user(sessions, idle, clock) == "sato"  # and this use keeps it alive
    clock.advance(SESSION_IDLE - timedelta(seconds=1))
    assert _session_user(sessions, idle, clock) == "sato"
    clock.advance(SESSION_IDLE)
    assert _session_user(sessions, idle, clock) is None

    busy = _start(sessions, clock, account_id)
    started = clock.now()
    while clock.now() < started + SESSION_ABSOLUTE - timedelta(minutes=30):
        assert _session_user(sessions, busy, clock) == "sato"
        clock.advance(timedelta(minutes=30))
    clock.set(started + SESSION_ABSOLUTE)
    assert _session_user(sessions, busy, clock) is None  # however busy, a sign-in lasts one shift


def test_signing_out_revokes_the_session_and_only_its_hash_is_stored(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    account_id = _add(sessions, clock)
    cookie = _start(sessions, clock, account_id)
    other = _start(sessions, clock, account_id)
    with sessions() as session:
        stored = set(session.scalars(select(WebSessionRow.token_hash)))
    assert stored == {hashlib.sha256(c.encode()).hexdigest() for c in (cookie, other)}
    with sessions.begin() as session:
        accounts.end_session(session, cookie, clock.now())
    assert _session_user(sessions, cookie, clock) is None
    assert _session_user(sessions, other, clock) == "sato"  # another browser stays signed in
    assert _session_user(sessions, "made-up", clock) is None


def test_api_tokens_are_shown_once_stored_hashed_tracked_and_revocable(
    sessions: sessionmaker[Session], clock: FakeClock
) -> None:
    account_id = _add(sessions, clock, "robot", "auditor")
    with sessions.begin() as session:
        token = accounts.issue_api_token(
            session, account_id=account_id, name="nightly export", now=clock.now()
        )
        spare = accounts.issue_api_token(session, account_id=account_id, name="spare", now=clock.now())
    assert token.startswith("cf_")
    assert len(token) > 40
    with sessions() as session:
        rows = {row.name: row for row in session.scalars(select(ApiTokenRow))}
    assert rows["nightly export"].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in (row.token_hash, row.name) for row in rows.values())
    assert rows["nightly export"].last_used_at is None

    clock.advance(timedelta(hours=1))
    with sessions.begin() as session:
        used = accounts.token_account(session, token, clock.now())
        assert used is not None
        assert (used.username, used.role) == ("robot", "auditor")
        assert accounts.token_account(session, token[:-1] + "x", clock.now()) is None
    with sessions() as session:
        assert session.get(ApiTokenRow, rows["nightly export"].token_hash).last_used_at == clock.now()  # type: ignore[union-attr]

    first_use = clock.now()
    clock.advance(timedelta(seconds=30))
    with sessions.begin() as session:
        assert accounts.token_account(session, token, clock.now()) is not None
    with sessions() as session:
        # Within a minute the row is not rewritten: a busy client would otherwise serialise on it.
        assert session.get(ApiTokenRow, rows["nightly export"].token_hash).last_used_at == first_use  # type: ignore[union-attr]
    clock.advance(timedelta(seconds=31))
    with sessions.begin() as session:
        assert accounts.token_account(session, token, clock.now()) is not None
    with sessions() as session:
        assert session.get(ApiTokenRow, rows["nightly export"].token_hash).last_used_at == clock.now()  # type: ignore[union-attr]

    with sessions.begin() as session:
        assert accounts.revoke_api_tokens_named(session, "robot", "nightly export", clock.now()) == 1
    with sessions.begin() as session:
        assert accounts.token_account(session, token, clock.now()) is None
        assert accounts.token_account(session, spare, clock.now()) is not None
        accounts.revoke_api_token(session, rows["spare"].token_hash, clock.now())
    with sessions.begin() as session:
        assert accounts.token_account(session, spare, clock.now()) is None
