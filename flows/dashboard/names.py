"""Names and order for the dashboard: departments and step titles from the pinned snapshots.

The active policy and org come first (their order is the directory's and the policy's), so the page
reads like the rulebook; departments or steps only older snapshots know follow, by id.
"""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from flows.dashboard.departments import LOOKUP, UNASSIGNED
from flows.errors import RuntimeProblem
from flows.registry import Pinned, PolicyRegistry
from models.org import Org
from models.tables import ComplaintRow


@dataclass
class Snapshots:
    """Resolves owners to departments through each complaint's pinned snapshot, collecting names."""

    session: Session
    registry: PolicyRegistry
    departments: dict[str, str] = field(default_factory=dict)  # id → name, in display order
    steps: dict[str, str] = field(default_factory=dict)  # id → title, in display order
    _seen: set[tuple[str, str]] = field(default_factory=set)
    _orgs: dict[str, Org] = field(default_factory=dict)
    _departments: dict[tuple[str, str | None], str] = field(default_factory=dict)  # called per complaint

    def __post_init__(self) -> None:
        if self.registry.active is not None:
            self._learn(self.registry.active)

    def learn(self, version: str, org_hash: str) -> None:
        """Take in a snapshot complaints are pinned to (the active one is known from the start)."""
        if (version, org_hash) not in self._seen:
            self._learn(self.registry.pinned(self.session, version, org_hash))

    def department(self, org_hash: str, owner: str | None) -> str:
        """The owner's department in the snapshot."""
        found = self._departments.get((org_hash, owner))
        if found is None:
            found = LOOKUP.department(org_hash, self._org(org_hash), owner) if owner else UNASSIGNED
            self._departments[org_hash, owner] = found
        return found

    def owners(self, org_hash: str) -> dict[str, str]:
        return LOOKUP.owners(org_hash, self._org(org_hash))

    def _org(self, org_hash: str) -> Org:
        if org_hash not in self._orgs:
            # Pinned by a complaint that arrived while the dashboard was being computed.
            version = self.session.scalar(
                select(ComplaintRow.policy_version).where(ComplaintRow.org_hash == org_hash).limit(1)
            )
            if version is None:
                raise RuntimeProblem(f"org snapshot {org_hash} is not pinned by any complaint")
            self.learn(version, org_hash)
        return self._orgs[org_hash]

    def _learn(self, pinned: Pinned) -> None:
        self._seen.add((pinned.policy.version, pinned.org_hash))
        self._orgs[pinned.org_hash] = pinned.org
        for key, name in LOOKUP.names(pinned.org_hash, pinned.org).items():
            self.departments.setdefault(key, name)
        for step in pinned.spec.steps:
            self.steps.setdefault(step.id, step.title)

    def department_name(self, key: str) -> str:
        """The department's name; "" for owners without one (the page says so in its language)."""
        if key == UNASSIGNED:
            return ""
        return self.departments.setdefault(key, key)

    def step_title(self, key: str) -> str:
        return self.steps.setdefault(key, key)
