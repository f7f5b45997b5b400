"""Signed, expiring, single-use action links (``/a/<token>``) sent in step emails.

The token is an itsdangerous signature over a random token id; the id's row holds the complaint,
step, person and expiry. Expiry is checked against the runtime's clock (not the signer's wall clock),
and use is an atomic ``UPDATE … WHERE used_at IS NULL``, so a link works exactly once even when two
clicks race.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import update
from sqlalchemy.orm import Session

from flows.errors import RuntimeProblem
from models.tables import ActionTokenRow


class LinkRejected(RuntimeProblem):
    """The link is forged, expired or already used; ``reason`` says which, for the page."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"action link {reason}")
        self.reason = reason


@dataclass(frozen=True)
class ActionLinks:
    secret: str
    base_url: str
    ttl: timedelta

    @property
    def _signer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt="complaintflow-action")

    def issue(self, session: Session, *, complaint: str, step: str, person: str, now: datetime) -> str:
        token_id = secrets.token_urlsafe(16)
        session.add(
            ActionTokenRow(
                token_id=token_id,
                complaint_id=complaint,
                step=step,
                person=person,
                expires_at=now + self.ttl,
                created_at=now,
            )
        )
        return f"{self.base_url.rstrip('/')}/a/{self._signer.dumps({'t': token_id})}"

    def inspect(self, session: Session, token: str, now: datetime) -> ActionTokenRow:
        """The token's row if the link is genuine, unexpired and unused; LinkRejected otherwise."""
        try:
            payload = self._signer.loads(token)
        except BadSignature as exc:
            raise LinkRejected("is not valid") from exc
        row = session.get(ActionTokenRow, payload.get("t")) if isinstance(payload, dict) else None
        if row is None:
            raise LinkRejected("is not valid")
        if row.used_at is not None:
            raise LinkRejected("was already used")
        if row.expires_at <= now:
            raise LinkRejected("has expired")
        return row

    def redeem(self, session: Session, token: str, now: datetime) -> ActionTokenRow:
        """Mark the link used, in the caller's transaction; only one caller can succeed."""
        row = self.inspect(session, token, now)
        claimed = session.execute(
            update(ActionTokenRow)
            .where(ActionTokenRow.token_id == row.token_id, ActionTokenRow.used_at.is_(None))
            .values(used_at=now)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            raise LinkRejected("was already used")
        return row
