"""Factories for tests: complaints as event lists, and small policies written to a temp folder."""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ruamel.yaml import YAML

from models.complaint import Channel
from models.events import Assigned, Classified, ComplaintReceived, Event, Reopened, Resolved, StepDone
from policies.api import Ready, prepare

REPO = Path(__file__).resolve().parent.parent
TOKYO = ZoneInfo("Asia/Tokyo")
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")

ORG: dict[str, Any] = {
    "id": "test-org",
    "name": "Test Clinic",
    "roles": {"president": "President", "executive": "Executive", "desk": "Desk", "staff": "Staff"},
    "departments": [{"id": "ward", "name": "Ward", "head": "boss"}],
    "people": [
        {"id": "pres", "name": "Pat President", "email": "pres@x.example", "roles": ["president"]},
        {"id": "exec", "name": "Eve Exec", "email": "exec@x.example", "roles": ["executive"]},
        {"id": "boss", "name": "Bo Boss", "email": "boss@x.example", "supervisor": "exec"},
        {"id": "amy", "name": "Amy", "email": "amy@x.example", "roles": ["staff"], "supervisor": "boss"},
        {"id": "ben", "name": "Ben", "email": "ben@x.example", "roles": ["staff"], "supervisor": "boss"},
        {"id": "d1", "name": "Dee", "email": "d1@x.example", "roles": ["desk"], "supervisor": "boss"},
        {"id": "d2", "name": "Dan", "email": "d2@x.example", "roles": ["desk"], "supervisor": "boss"},
    ],
}


def step(step_id: str, **fields: Any) -> dict[str, Any]:
    """A step with sensible defaults: the first hearer reports to their supervisor within 1h."""
    base: dict[str, Any] = {
        "id": step_id,
        "title": step_id.replace("_", " "),
        "actor": "first_hearer",
        "from": "heard",
        "within": "1h",
    }
    if "anchor" in fields:
        base["from"] = fields.pop("anchor")
    base.update(fields)
    return base


def make_policy(tmp_path: Path, steps: list[dict[str, Any]], **fields: Any) -> Ready:
    """Write a policy (and the test org) under ``tmp_path`` and load it as the CLI would."""
    org_document = fields.pop("org_document", ORG)
    document: dict[str, Any] = {
        "id": "test-policy",
        "name": "Test policy",
        "language": "en",
        "timezone": "Asia/Tokyo",
        "org": "org.yaml",
        "owner": "role(president)",
        "steps": steps,
    }
    document.update(fields)
    yaml = YAML()
    with (tmp_path / "org.yaml").open("w") as handle:
        yaml.dump(org_document, handle)
    with (tmp_path / "policy.yaml").open("w") as handle:
        yaml.dump(document, handle)
    return prepare(tmp_path / "policy.yaml")


T0 = datetime(2026, 4, 1, 10, 0, tzinfo=TOKYO)


def at(minutes: float, base: datetime = T0) -> datetime:
    return base + timedelta(minutes=minutes)


def received(complaint: str = "C-1", when: datetime = T0, **fields: Any) -> ComplaintReceived:
    fields.setdefault("channel", Channel.PHONE)
    fields.setdefault("heard_by", "amy")
    return ComplaintReceived(complaint=complaint, at=when, **fields)


def done(step_id: str, by: str, when: datetime, to: str | None = None, complaint: str = "C-1") -> StepDone:
    return StepDone(complaint=complaint, at=when, step=step_id, by=by, to=to)


def assigned(handler: str, when: datetime, complaint: str = "C-1") -> Assigned:
    return Assigned(complaint=complaint, at=when, handler=handler)


def classified(when: datetime, complaint: str = "C-1", **fields: Any) -> Classified:
    return Classified(complaint=complaint, at=when, **fields)


def resolved(when: datetime, complaint: str = "C-1") -> Resolved:
    return Resolved(complaint=complaint, at=when)


def reopened(when: datetime, complaint: str = "C-1") -> Reopened:
    return Reopened(complaint=complaint, at=when)


def events(*items: Event) -> list[Event]:
    return list(items)
