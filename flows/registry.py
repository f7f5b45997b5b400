"""Policy versions and org snapshots: stored once by content hash, compiled once per process.

A complaint pins the policy version and org snapshot it started under, so activating a new policy or
editing the directory never changes complaints already in flight.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from flows.errors import RuntimeProblem
from models.org import Org
from models.tables import OrgSnapshotRow, PolicyVersionRow
from policies.api import prepare
from policies.compiled import CompiledPolicy, content_version
from policies.compiler import compile_policy
from policies.schema import PolicySpec


@dataclass(frozen=True)
class Pinned:
    """What a complaint runs under: its compiled policy, its org snapshot and their ids."""

    policy: CompiledPolicy
    spec: PolicySpec
    org: Org
    org_hash: str


@dataclass
class PolicyRegistry:
    sessions: sessionmaker[Session]
    templates: Path | None = None
    active: Pinned | None = None
    _cache: dict[tuple[str, str], Pinned] = field(default_factory=dict)

    def activate(self, policy_path: Path, org_path: Path | None = None) -> Pinned:
        """Check, compile and store a policy (and its org); new complaints start under it."""
        ready = prepare(policy_path, org_path=org_path)
        spec = ready.loaded.spec
        pinned = Pinned(ready.policy, spec, ready.org, org_hash(ready.org))
        with self.sessions.begin() as session:
            if session.get(PolicyVersionRow, pinned.policy.version) is None:
                session.add(
                    PolicyVersionRow(
                        version=pinned.policy.version,
                        policy_id=spec.id,
                        name=spec.name,
                        document=_canonical(spec.model_dump(mode="json", by_alias=True)),
                    )
                )
            if session.get(OrgSnapshotRow, pinned.org_hash) is None:
                session.add(
                    OrgSnapshotRow(
                        hash=pinned.org_hash,
                        org_id=ready.org.id,
                        document=_canonical(ready.org.model_dump(mode="json")),
                    )
                )
        if spec.templates:
            self.templates = policy_path.parent / spec.templates
        self._cache[(pinned.policy.version, pinned.org_hash)] = pinned
        self.active = pinned
        return pinned

    def policy_id(self, version: str) -> str:
        """The policy id of a stored version (names the Prefect flow its complaints run in)."""
        known = next((p.policy.id for (v, _), p in self._cache.items() if v == version), None)
        return known or _policy_id_of(self.sessions, version)

    def pinned(self, session: Session, version: str, org: str) -> Pinned:
        """The policy and org a stored complaint runs under, rebuilt from the database if needed."""
        cached = self._cache.get((version, org))
        if cached is not None:
            return cached
        policy_row = session.get(PolicyVersionRow, version)
        org_row = session.get(OrgSnapshotRow, org)
        if policy_row is None or org_row is None:
            raise RuntimeProblem(f"policy version {version} or org snapshot {org} is not stored")
        spec = PolicySpec.model_validate(json.loads(policy_row.document))
        snapshot = Org.model_validate(json.loads(org_row.document))
        pinned = Pinned(compile_policy(spec), spec, snapshot, org)
        self._cache[(version, org)] = pinned
        return pinned


def _policy_id_of(sessions: sessionmaker[Session], version: str) -> str:
    with sessions() as session:
        row = session.get(PolicyVersionRow, version)
        if row is None:
            raise RuntimeProblem(f"policy version {version} is not stored")
        return row.policy_id


def org_hash(org: Org) -> str:
    return content_version(org.model_dump(mode="json"))


def _canonical(document: object) -> str:
    return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
