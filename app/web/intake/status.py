"""The complainant's private status link: a signed token naming the complaint, and what it shows.

The view holds only what the complainant may see: when it was received, whether it is resolved and
which steps were done when, by step title. Never who did them, to whom, or their notes.
"""

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from flows.records.events import load_events
from flows.runtime.assembly import Runtime
from models.events import ComplaintReceived, Reopened, Resolved, StepDone
from models.tables import ComplaintRow

_FORMAT = "%Y-%m-%d %H:%M %Z"
_MAX_TOKEN = 512


def _signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="complaintflow-status")


def status_token(secret: str, complaint_id: str) -> str:
    return _signer(secret).dumps({"c": complaint_id})


def complaint_of(secret: str, token: str) -> str | None:
    """The complaint id the token was signed for, or None if it is not genuine."""
    if len(token) > _MAX_TOKEN:
        return None
    try:
        payload = _signer(secret).loads(token)
    except BadSignature:
        return None
    value = payload.get("c") if isinstance(payload, dict) else None
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class StatusView:
    complaint: str
    received: str
    resolved: bool
    category: str | None
    steps: tuple[tuple[str, str], ...]  # (when, step title)


def status_view(runtime: Runtime, complaint_id: str) -> StatusView | None:
    with runtime.sessions() as session:
        complaint = session.get(ComplaintRow, complaint_id)
        if complaint is None:
            return None
        pinned = runtime.registry.pinned(session, complaint.policy_version, complaint.org_hash)
        events, _ = load_events(session, complaint_id)
    zone = pinned.policy.calendar.zone
    received = next(e for e in events if isinstance(e, ComplaintReceived))
    resolved = False
    steps: list[tuple[str, str]] = []
    for event in events:
        if isinstance(event, Resolved | Reopened):
            resolved = isinstance(event, Resolved)
        if isinstance(event, StepDone):
            step = pinned.policy.step(event.step)
            steps.append((f"{event.at.astimezone(zone):{_FORMAT}}", step.title if step else event.step))
    categories = dict(pinned.policy.categories)
    return StatusView(
        complaint=complaint_id,
        received=f"{received.at.astimezone(zone):{_FORMAT}}",
        resolved=resolved,
        category=categories.get(received.category or "", received.category),
        steps=tuple(steps),
    )
