"""Policy versions and org snapshots: stored once by content hash, compiled once per process; and
which version new complaints start under (the latest row of ``policy_activations``).

A complaint pins the policy version and org snapshot it started under, so activating a new policy or
editing the directory never changes complaints already in flight.

Start-up rule (``start_up``, called by ``build_runtime``): the configured policy file (with its org)
is loaded and stored. If that exact content (policy version and org snapshot) was never activated, it
is activated now, recorded with ``activated_by="configuration"``. If it was activated before and an
administrator activated something else since, the latest activation stays active: restarting a
process does not silently undo an administrator's activation. Every activation appends a
``policy_activated`` entry to the hash-chained decision log.

Several processes: each one reads the latest activation from the database when it accepts a
complaint (``current``: one indexed query, the compiled policy cached by activation seq), so an
activation made through one process's admin page applies to intake in every process. ``active`` is
the latest activation this process has seen, for pages that only need its language or categories.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from flows.clock import Clock, SystemClock
from flows.errors import RuntimeProblem
from flows.records.decisions import DecisionKind, append_decision
from models.org import Org
from models.tables import OrgSnapshotRow, PolicyActivationRow, PolicyVersionRow
from policies.api import Ready, prepare
from policies.language.compiled import CompiledPolicy, content_version
from policies.language.compiler import compile_policy
from policies.language.schema import PolicySpec

CONFIGURATION = "configuration"  # activated_by for the policy file named in the settings
_ACTIVATION_LOCK = 0x706F6C69  # PostgreSQL advisory lock id serialising activations ("poli")


@dataclass(frozen=True)
class Pinned:
    """What a complaint runs under: its compiled policy, its org snapshot and their ids."""

    policy: CompiledPolicy
    spec: PolicySpec
    org: Org
    org_hash: str


@dataclass(frozen=True)
class Sources:
    """The YAML texts an activation is recorded with (for the diff and for the auditors)."""

    policy: str
    org: str | None


@dataclass
class PolicyRegistry:
    sessions: sessionmaker[Session]
    templates: Path | None = None
    active: Pinned | None = None
    clock: Clock = field(default_factory=SystemClock)
    _cache: dict[tuple[str, str], Pinned] = field(default_factory=dict)
    _active_seq: int = 0

    def activate(self, policy_path: Path, org_path: Path | None = None, *, by: str = CONFIGURATION) -> Pinned:
        """Check, compile and store a policy (and its org); new complaints start under it."""
        ready = prepare(policy_path, org_path=org_path)
        self._use_templates(policy_path, ready)
        return self.activate_ready(ready, _sources(ready, org_path), by=by)

    def activate_ready(self, ready: Ready, sources: Sources, *, by: str) -> Pinned:
        """Store a checked policy and make it the one new complaints start under, unless it already is."""
        with self.sessions.begin() as session:
            _lock(session)
            pinned = self.store(session, ready)
            latest = _latest(session)
            if latest is None or (latest.version, latest.org_hash) != (
                pinned.policy.version,
                pinned.org_hash,
            ):
                latest = self._record(session, pinned, sources, by, latest)
            self._remember(latest.seq, pinned)
        return pinned

    def start_up(self, policy_path: Path, org_path: Path | None = None) -> Pinned:
        """The configured policy at process start, under the start-up rule in the module docstring."""
        ready = prepare(policy_path, org_path=org_path)
        self._use_templates(policy_path, ready)
        with self.sessions.begin() as session:
            _lock(session)
            pinned = self.store(session, ready)
            latest = _latest(session)
            seen = session.scalars(
                select(PolicyActivationRow.seq)
                .where(PolicyActivationRow.version == pinned.policy.version)
                .where(PolicyActivationRow.org_hash == pinned.org_hash)
                .limit(1)
            ).first()
            if latest is None or seen is None:
                latest = self._record(session, pinned, _sources(ready, org_path), CONFIGURATION, latest)
            else:
                pinned = self.pinned(session, latest.version, latest.org_hash)
            self._remember(latest.seq, pinned)
        return pinned

    def current(self, session: Session) -> Pinned:
        """The latest activation in the database (what a new complaint starts under), in ``session``."""
        # Only the key columns: the row also holds the source texts, which intake does not need.
        query = select(PolicyActivationRow.seq, PolicyActivationRow.version, PolicyActivationRow.org_hash)
        row = session.execute(query.order_by(PolicyActivationRow.seq.desc()).limit(1)).first()
        if row is None:
            raise RuntimeProblem("no active policy: call PolicyRegistry.activate first")
        seq, version, org = row
        if seq == self._active_seq and self.active is not None:
            return self.active
        pinned = self.pinned(session, version, org)
        self._remember(seq, pinned)
        return pinned

    def store(self, session: Session, ready: Ready) -> Pinned:
        """Store a checked policy version and its org snapshot (once each, by content hash)."""
        spec = ready.loaded.spec
        pinned = Pinned(ready.policy, spec, ready.org, org_hash(ready.org))
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
        session.flush()
        self._cache[(pinned.policy.version, pinned.org_hash)] = pinned
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

    def _record(
        self,
        session: Session,
        pinned: Pinned,
        sources: Sources,
        by: str,
        previous: PolicyActivationRow | None,
    ) -> PolicyActivationRow:
        now: datetime = self.clock.now()
        row = PolicyActivationRow(
            version=pinned.policy.version,
            org_hash=pinned.org_hash,
            source=sources.policy,
            org_source=sources.org,
            activated_by=by,
            activated_at=now,
        )
        session.add(row)
        session.flush()
        append_decision(
            session,
            DecisionKind.POLICY_ACTIVATED,
            pinned.policy.version,
            actor=by,
            at=now,
            payload={
                "version": pinned.policy.version,
                "org_hash": pinned.org_hash,
                "policy_id": pinned.policy.id,
                "previous_version": previous.version if previous is not None else None,
            },
        )
        return row

    def _remember(self, seq: int, pinned: Pinned) -> None:
        self._active_seq, self.active = seq, pinned

    def _use_templates(self, policy_path: Path, ready: Ready) -> None:
        if ready.loaded.spec.templates:
            self.templates = policy_path.parent / ready.loaded.spec.templates


def latest_activation(session: Session) -> PolicyActivationRow | None:
    """The activation new complaints start under (the highest seq), or None before the first."""
    return _latest(session)


def _latest(session: Session) -> PolicyActivationRow | None:
    query = select(PolicyActivationRow).order_by(PolicyActivationRow.seq.desc()).limit(1)
    return session.scalars(query).first()


def _lock(session: Session) -> None:
    # Two processes starting (or two admins activating) at once must not both record an activation.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ACTIVATION_LOCK})


def _sources(ready: Ready, org_path: Path | None) -> Sources:
    """The texts of the files a policy was loaded from."""
    org_file = org_path or ready.loaded.org_path
    return Sources(
        policy=ready.loaded.path.read_text(encoding="utf-8-sig"),
        org=org_file.read_text(encoding="utf-8-sig") if org_file.is_file() else None,
    )


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
