"""Scenario files: a policy, an org directory, an ``until`` time and a list of timed events.

Documented in docs/scenarios.md. Paths are relative to the scenario file; event times carry offsets.
"""

from datetime import datetime
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.events import EVENT_CLASSES, Event
from models.timeutil import AwareDatetime
from policies.errors import PolicyInvalid, Problem
from policies.language.source import Located, load_located
from policies.language.validation import problems_from, validate_located


class ScenarioSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    description: str = ""
    policy: str
    org: str | None = None
    until: AwareDatetime
    events: list[dict[str, Any]] = Field(default_factory=list)


class Scenario(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    policy_path: Path
    org_path: Path | None
    until: datetime
    events: tuple[Event, ...]


def load_scenario(path: Path) -> Scenario:
    """Load a scenario; every malformed event is reported at its own line."""
    located = load_located(path)
    spec, problems = validate_located(ScenarioSpec, located.data, located)
    if spec is None:
        raise PolicyInvalid(problems)
    events: list[Event] = []
    for index, raw in enumerate(spec.events):
        problems.extend(_event(raw, index, located, events))
    if problems:
        raise PolicyInvalid(problems)
    base = path.parent.resolve()
    return Scenario(
        name=spec.name or path.stem,
        policy_path=base / spec.policy,
        org_path=base / spec.org if spec.org else None,
        until=spec.until,
        events=tuple(events),
    )


def _event(raw: dict[str, Any], index: int, located: Located, events: list[Event]) -> list[Problem]:
    kind = raw.get("type")
    cls = EVENT_CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        known = ", ".join(EVENT_CLASSES)
        return [located.problem(("events", index, "type"), f"unknown event type {kind!r} (use {known})")]
    try:
        # Validated against its own class so problems are located at the field; it is one of Event.
        events.append(cast(Event, cls.model_validate(raw)))
    except ValidationError as exc:
        return problems_from(exc, raw, located, ("events", index), cls)
    return []
