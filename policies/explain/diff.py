"""What changes between two policy versions, in words an administrator can check before activating.

Two views: a semantic diff of the specs (steps added or removed, and for each changed step, penalty or
calendar, which field went from what to what, e.g. ``step report: within 30分 → 10分``), and the
unified text diff of the YAML sources for whoever wants every line. Labels here are the policy
language's own keys; pages translate them.
"""

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from policies.language.schema import PolicySpec

NONE = "—"


class Scope(StrEnum):
    POLICY = "policy"
    CALENDAR = "calendar"
    PENALTY = "penalty"
    STEP = "step"


class ChangeKind(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class Change:
    """One difference: a part added or removed, or one field of a part changed."""

    scope: Scope
    subject: str  # the step or penalty id; "" for the policy's own fields and its calendar
    kind: ChangeKind
    field: str = ""
    before: str = NONE
    after: str = NONE

    def __str__(self) -> str:
        where = f"{self.scope} {self.subject}".strip()
        if self.kind is ChangeKind.CHANGED:
            return f"{where}: {self.field} {self.before} → {self.after}"
        return f"{where}: {self.kind}"


@dataclass(frozen=True)
class PolicyDiff:
    changes: tuple[Change, ...]
    text: tuple[str, ...]  # unified diff lines, without line endings

    @property
    def same(self) -> bool:
        return not self.changes


# The step fields in the order a reader scans them; ``on_missed`` is split into its two meanings.
_STEP_FIELDS = (
    "title", "kind", "actor", "to", "from", "within", "when", "remind", "penalty", "escalate",
    "repeat", "closes_on", "template", "path", "rule", "description",
)  # fmt: skip
_PENALTY_FIELDS = ("name", "duration", "applies_to", "description")
_CALENDAR_FIELDS = ("holidays", "subdivision", "working_hours")
_POLICY_SKIP = {"steps", "penalties", "calendar"}


def diff_policies(
    before: PolicySpec,
    after: PolicySpec,
    before_text: str = "",
    after_text: str = "",
    names: tuple[str, str] = ("active", "candidate"),
) -> PolicyDiff:
    """Everything that differs between ``before`` and ``after`` (and their sources, when given)."""
    old, new = _dump(before), _dump(after)
    changes = [
        *_fields(Scope.POLICY, "", old, new, [k for k in new if k not in _POLICY_SKIP]),
        *_fields(Scope.CALENDAR, "", old["calendar"], new["calendar"], _CALENDAR_FIELDS),
        *_parts(Scope.PENALTY, old["penalties"], new["penalties"], _PENALTY_FIELDS),
        *_parts(Scope.STEP, _steps(old), _steps(new), _STEP_FIELDS),
    ]
    return PolicyDiff(tuple(changes), text_diff(before_text, after_text, names))


def text_diff(before: str, after: str, names: tuple[str, str] = ("active", "candidate")) -> tuple[str, ...]:
    lines = difflib.unified_diff(before.splitlines(), after.splitlines(), names[0], names[1], lineterm="")
    return tuple(lines)


def _dump(spec: PolicySpec) -> dict[str, Any]:
    dumped: dict[str, Any] = spec.model_dump(mode="json", by_alias=True)
    return dumped


def _steps(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Steps by id, with ``on_missed`` split into ``penalty`` and ``escalate``."""
    steps: dict[str, dict[str, Any]] = {}
    for step in document["steps"]:
        flat = {k: v for k, v in step.items() if k != "on_missed"}
        flat["penalty"] = step["on_missed"]["penalty"]
        flat["escalate"] = step["on_missed"]["escalate"]
        steps[step["id"]] = flat
    return steps


def _parts(
    scope: Scope,
    old: Mapping[str, Mapping[str, Any]],
    new: Mapping[str, Mapping[str, Any]],
    keys: tuple[str, ...],
) -> Iterator[Change]:
    for ident in old:
        if ident not in new:
            yield Change(scope, ident, ChangeKind.REMOVED)
    for ident, part in new.items():
        if ident not in old:
            yield Change(scope, ident, ChangeKind.ADDED)
        else:
            yield from _fields(scope, ident, old[ident], part, keys)


def _fields(
    scope: Scope, subject: str, old: Mapping[str, Any], new: Mapping[str, Any], keys: Any
) -> Iterator[Change]:
    for key in keys:
        if old.get(key) != new.get(key):
            yield Change(scope, subject, ChangeKind.CHANGED, key, show(old.get(key)), show(new.get(key)))


def show(value: Any) -> str:
    """A compact, YAML-like rendering of one field's value ("—" when it is not set)."""
    if value is None or value in ([], {}):
        return NONE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        shown = (f"{k}: {show(v)}" for k, v in value.items() if v is not None and v not in ([], {}))
        return "{" + ", ".join(shown) + "}"
    return str(value)
