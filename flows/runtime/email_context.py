"""The variables an email template sees (documented for policy authors in docs/templates.md)."""

from datetime import datetime
from typing import Any

from models.decisions import Notification, NotificationKind, Obligation
from models.events import ComplaintReceived
from models.org import Org
from policies.language.compiled import CompiledPolicy

SUMMARY_LENGTH = 500


def obligation_key(notification: Notification) -> str:
    """Notification keys extend their obligation's key with ``/<kind>/<n>``."""
    return notification.key.rsplit("/", 2)[0]


def template_context(
    *,
    policy: CompiledPolicy,
    org: Org,
    received: ComplaintReceived,
    notification: Notification,
    obligation: Obligation | None,
    recipient: str,
    action_url: str | None,
) -> dict[str, Any]:
    zone = policy.calendar.zone

    def when(moment: datetime | None) -> str | None:
        return f"{moment.astimezone(zone):%Y-%m-%d %H:%M %Z}" if moment else None

    def person(person_id: str | None) -> dict[str, str] | None:
        if person_id is None:
            return None
        found = org.person(person_id)
        if found is not None:
            return {"id": person_id, "name": found.name}
        # A group owner is labelled "role:<id>": show the role's name from the directory.
        kind, _, name = person_id.partition(":")
        return {"id": person_id, "name": org.roles.get(name, name) if kind == "role" else person_id}

    step = policy.step(notification.step) if notification.step else None
    penalty = policy.penalty(step.penalty) if step else None
    escalation = notification.kind is NotificationKind.ESCALATION
    heard_by = person(received.heard_by)
    return {
        "recipient": _recipient(org, received, recipient),
        "kind": notification.kind.value,
        "policy": {"id": policy.id, "name": policy.name},
        "org": {"name": org.name},
        "complaint": {
            "id": received.complaint,
            "channel": received.channel.value,
            "category": received.category,
            "category_name": dict(policy.categories).get(received.category or "", received.category),
            "severity": received.severity,
            "received_at": when(received.at),
            "heard_by_name": heard_by["name"] if heard_by else None,
            "subject": received.subject,
            "summary": (received.body or "")[:SUMMARY_LENGTH],
        },
        "step": {"id": step.id, "title": step.title, "kind": step.kind, "rule": step.rule} if step else None,
        "due_at": when(obligation.due_at) if obligation else None,
        "actor": person(obligation.actor) if obligation else None,
        "missed_by": person(obligation.actor) if obligation and escalation else None,
        "penalty": (
            {"name": penalty.name, "description": penalty.description, "period": str(penalty.period or "")}
            if penalty
            else None
        ),
        "action_url": action_url,
        "status_url": None,
        "reminder_number": int(notification.key.rsplit("/", 1)[1])
        if notification.kind is NotificationKind.REMINDER
        else None,
    }


def _recipient(org: Org, received: ComplaintReceived, recipient: str) -> dict[str, str]:
    if recipient == "complainant":
        return {"id": "complainant", "name": received.complainant.name or ""}
    found = org.person(recipient)
    return {"id": recipient, "name": found.name if found else recipient}
