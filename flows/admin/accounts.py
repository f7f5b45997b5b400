"""Accounts, sign-in sessions and API tokens: who may use the staff, auditor and admin parts.

Passwords are hashed with argon2id (argon2-cffi's RFC 9106 defaults) and rehashed at sign-in when
those parameters change. Sessions and API tokens are random secrets handed out once; only their
sha256 is stored, so a copy of the database signs no one in.

A session lasts at most ``SESSION_ABSOLUTE`` (12 h, a long shift) from sign-in and ends earlier after
``SESSION_IDLE`` (2 h) without a request: clinic workstations are shared. Sign-out revokes it.
Disabling an account stops its sessions and tokens at once (they are checked on every use); nothing
about an account is ever deleted, so the decision log's usernames keep pointing somewhere.
"""

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.errors import RuntimeProblem
from models.tables import AccountRow, ApiTokenRow, WebSessionRow

SESSION_IDLE = timedelta(hours=2)
SESSION_ABSOLUTE = timedelta(hours=12)
_SLIDE_STEP = timedelta(minutes=1)  # extend a session's expiry at most once a minute, not on every request
MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 accepts any length; a megabyte "password" should not cost a hash
TOKEN_PREFIX = "cf_"  # noqa: S105 - a marker that makes leaked tokens easy to scan for, not a secret
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_HASHER = PasswordHasher()  # argon2id


class Role(StrEnum):
    """Not a hierarchy: every route lists each role it lets in."""

    ADMIN = "admin"
    AUDITOR = "auditor"
    STAFF = "staff"


class AccountProblem(RuntimeProblem):
    """An account cannot be created or changed as asked; ``code`` names the reason for translated pages."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


def normalise_username(username: str) -> str:
    return username.strip().lower()


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountProblem("short_password", f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountProblem("long_password", f"a password may have at most {MAX_PASSWORD} characters")


def create_account(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str,
    now: datetime,
    person: str | None = None,
) -> AccountRow:
    name = normalise_username(username)
    if not _USERNAME.fullmatch(name):
        raise AccountProblem(
            "bad_username", "a username is 1-64 of a-z 0-9 . _ -, starting with a letter or digit"
        )
    if role not in set(Role):
        raise AccountProblem("unknown_role", f"unknown role {role!r}: use one of {', '.join(Role)}")
    check_password(password)
    if find_account(session, name) is not None:
        raise AccountProblem("username_taken", f"the username {name} is taken")
    account = AccountRow(
        username=name,
        display_name=display_name.strip() or name,
        role=role,
        password_hash=_HASHER.hash(password),
        person=person or None,
        active=True,
        created_at=now,
    )
    session.add(account)
    session.flush()
    return account


def find_account(session: Session, username: str) -> AccountRow | None:
    found: AccountRow | None = session.scalar(
        select(AccountRow).where(AccountRow.username == normalise_username(username))
    )
    return found


def list_accounts(session: Session) -> list[AccountRow]:
    return list(session.scalars(select(AccountRow).order_by(AccountRow.username)))


def authenticate(session: Session, username: str, password: str) -> AccountRow | None:
    """The active account with this username and password, or None (never saying which was wrong)."""
    account = find_account(session, username) if len(password) <= MAX_PASSWORD else None
    if account is None:
        # Hash anyway, so an unknown username takes as long as a wrong password.
        _verify(_dummy_hash(), password[:MAX_PASSWORD])
        return None
    if not _verify(account.password_hash, password) or not account.active:
        return None
    if _HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = _HASHER.hash(password)
    return account


def _verify(stored: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def set_password(session: Session, username: str, password: str) -> AccountRow:
    account = _existing(session, username)
    check_password(password)
    account.password_hash = _HASHER.hash(password)
    return account


def disable_account(session: Session, username: str) -> AccountRow:
    account = _existing(session, username)
    account.active = False
    return account


def _existing(session: Session, username: str) -> AccountRow:
    account = find_account(session, username)
    if account is None:
        raise AccountProblem("no_account", f"no account {normalise_username(username)}")
    return account


# --- sessions --------------------------------------------------------------------------------------


def start_session(session: Session, account: AccountRow, now: datetime) -> str:
    """A new sign-in for ``account``; returns the secret for the cookie (stored only as its hash)."""
    token = secrets.token_urlsafe(32)
    session.add(
        WebSessionRow(
            token_hash=_digest(token),
            account_id=account.id,
            created_at=now,
            expires_at=now + min(SESSION_IDLE, SESSION_ABSOLUTE),
            revoked_at=None,
        )
    )
    return token


def session_account(session: Session, token: str, now: datetime) -> AccountRow | None:
    """The active account signed in with this cookie secret, or None; a use extends the idle limit."""
    row = session.get(WebSessionRow, _digest(token))
    if row is None or row.revoked_at is not None or now >= row.expires_at:
        return None
    account = session.get(AccountRow, row.account_id)
    if account is None or not account.active:
        return None
    extended = min(now + SESSION_IDLE, row.created_at + SESSION_ABSOLUTE)
    if extended - row.expires_at >= _SLIDE_STEP:
        row.expires_at = extended
    return account


def end_session(session: Session, token: str, now: datetime) -> None:
    row = session.get(WebSessionRow, _digest(token))
    if row is not None and row.revoked_at is None:
        row.revoked_at = now


# --- API tokens ------------------------------------------------------------------------------------


def issue_api_token(session: Session, *, account_id: int, name: str, now: datetime) -> str:
    """A new token acting as the account; the plaintext is returned here once and never stored."""
    if session.get(AccountRow, account_id) is None:
        raise AccountProblem("no_account", f"no account with id {account_id}")
    if not name.strip():
        raise AccountProblem("token_name", "an API token needs a name saying what it is for")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(
        token_hash=_digest(token),
        account_id=account_id,
        name=name.strip(),
        created_at=now,
        last_used_at=None,
        revoked_at=None,
    )
    session.add(row)
    session.flush()
    return token


LAST_USED_RESOLUTION = timedelta(minutes=1)
"""How stale ``last_used_at`` may be: writing it on every request serialised a busy client's requests."""


def token_account(session: Session, token: str, now: datetime) -> AccountRow | None:
    """The active account an unrevoked API token acts as, or None; records when it was last used."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.get(ApiTokenRow, _digest(token))
    if row is None or row.revoked_at is not None:
        return None
    account = session.get(AccountRow, row.account_id)
    if account is None or not account.active:
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        row.last_used_at = now
    return account


def list_api_tokens(session: Session, account_id: int) -> list[ApiTokenRow]:
    query = select(ApiTokenRow).where(ApiTokenRow.account_id == account_id).order_by(ApiTokenRow.created_at)
    return list(session.scalars(query))


def revoke_api_token(session: Session, token_hash: str, now: datetime) -> ApiTokenRow:
    row = session.get(ApiTokenRow, token_hash)
    if row is None:
        raise AccountProblem("no_token", "no such API token")
    if row.revoked_at is None:
        row.revoked_at = now
    return row


def revoke_api_tokens_named(session: Session, username: str, name: str, now: datetime) -> int:
    """Revoke the account's live tokens called ``name``; returns how many were revoked."""
    account = _existing(session, username)
    live = [t for t in list_api_tokens(session, account.id) if t.name == name and t.revoked_at is None]
    for row in live:
        row.revoked_at = now
    return len(live)
