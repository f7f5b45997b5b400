"""Activating a policy version: new complaints start under it, complaints in flight keep theirs; the
start-up rule; every activation recorded and logged in the hash-chained decision log."""

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from flows.admin.lifecycle import Candidate, Checked, activate_checked, admin_username, check_candidate
from flows.audit.verify import verify_decisions
from flows.clock import FakeClock
from flows.errors import RuntimeProblem
from flows.intake.store import NewComplaint, accept_complaint
from flows.records.decisions import DecisionKind
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from models.complaint import Channel
from models.tables import ComplaintRow, DecisionLogRow, PolicyActivationRow, ViolationRow
from notifiers.outbound.sink import MailSink
from tests.app.auth_support import make_account
from tests.runtime_support import CLINIC, make_runtime

STRICTER = (
    CLINIC.read_text(encoding="utf-8")
    .replace("within: 30分", "within: 10分", 1)
    .replace("remind: {every: 10分}", "remind: {every: 5分}", 1)
)


def _checked(runtime: Runtime, text: str = STRICTER) -> Checked:
    assert runtime.policies_dir is not None
    return check_candidate(Candidate("stricter.yaml", text), runtime.policies_dir, runtime.templates.folder)


def _submit(runtime: Runtime) -> str:
    new = NewComplaint(channel=Channel.PHONE, heard_by="tanaka")
    return accept_complaint(runtime.sessions, runtime.registry, runtime.clock, new)


def _activations(runtime: Runtime) -> list[tuple[str, str]]:
    with runtime.sessions() as session:
        rows = session.scalars(select(PolicyActivationRow).order_by(PolicyActivationRow.seq))
        return [(r.version, r.activated_by) for r in rows]


def _missed_reports(runtime: Runtime, complaint_id: str) -> list[str]:
    with runtime.sessions() as session:
        query = select(ViolationRow.step).where(ViolationRow.complaint_id == complaint_id)
        return list(session.scalars(query))


def test_a_complaint_in_flight_keeps_its_version_and_a_new_one_runs_under_the_activated_one(
    runtime: Runtime, clock: FakeClock
) -> None:
    before = _submit(runtime)
    admin = make_account(runtime, "admin")
    pinned = activate_checked(runtime.registry, _checked(runtime), admin)
    after = _submit(runtime)

    clock.advance(timedelta(minutes=15))
    for complaint_id in (before, after):
        process_complaint(runtime, complaint_id)
    # 15 minutes in: late under the stricter 10-minute rule, still in time under the old 30 minutes.
    assert _missed_reports(runtime, before) == []
    assert _missed_reports(runtime, after) == ["report_to_supervisor"]
    with runtime.sessions() as session:
        versions = {c.id: c.policy_version for c in session.scalars(select(ComplaintRow))}
    assert versions[after] == pinned.policy.version
    assert versions[before] != pinned.policy.version
    clock.advance(timedelta(minutes=16))
    process_complaint(runtime, before)
    assert _missed_reports(runtime, before) == ["report_to_supervisor"]


def test_an_activation_is_recorded_with_its_source_and_logged_in_the_decision_chain(
    runtime: Runtime, clock: FakeClock
) -> None:
    original = runtime.registry.active
    assert original is not None
    admin = make_account(runtime, "admin")
    pinned = activate_checked(runtime.registry, _checked(runtime), admin)

    assert _activations(runtime) == [
        (original.policy.version, "configuration"),
        (pinned.policy.version, admin),
    ]
    with runtime.sessions() as session:
        latest = session.scalars(select(PolicyActivationRow).order_by(PolicyActivationRow.seq.desc())).first()
        assert latest is not None
        assert latest.source == STRICTER
        assert latest.org_source == (CLINIC.parent / "orgs" / "keieikai.yaml").read_text(encoding="utf-8")
        assert latest.activated_at == clock.now()
        logged = session.scalars(
            select(DecisionLogRow).where(DecisionLogRow.kind == DecisionKind.POLICY_ACTIVATED.value)
        ).all()
        assert [(d.subject, d.actor) for d in logged] == [
            (original.policy.version, "configuration"),
            (pinned.policy.version, admin),
        ]
        assert json.loads(logged[1].payload) == {
            "version": pinned.policy.version,
            "org_hash": pinned.org_hash,
            "policy_id": "keieikai-clinic",
            "previous_version": original.policy.version,
        }
        assert verify_decisions(session)[1] is None


def test_activating_the_active_version_again_records_nothing(runtime: Runtime) -> None:
    admin = make_account(runtime, "admin")
    activate_checked(runtime.registry, _checked(runtime), admin)
    activate_checked(runtime.registry, _checked(runtime), admin)
    assert len(_activations(runtime)) == 2


def test_a_restart_does_not_undo_an_administrators_activation(
    database_url: str, sink: MailSink, clock: FakeClock
) -> None:
    first = make_runtime(database_url, sink, clock)
    admin = make_account(first, "admin")
    stricter = activate_checked(first.registry, _checked(first), admin)

    restarted = make_runtime(database_url, sink, clock)  # same configured file as before

    assert restarted.registry.active is not None
    assert restarted.registry.active.policy.version == stricter.policy.version
    with restarted.sessions() as session:
        row = session.get(ComplaintRow, _submit(restarted))
        assert row is not None
        assert row.policy_version == stricter.policy.version
    assert [by for _, by in _activations(restarted)] == ["configuration", admin]


def test_a_restart_with_a_new_configured_file_activates_it(
    database_url: str, sink: MailSink, clock: FakeClock, tmp_path: Path
) -> None:
    first = make_runtime(database_url, sink, clock)
    activate_checked(first.registry, _checked(first), make_account(first, "admin"))
    edited = _copy_clinic(
        tmp_path, CLINIC.read_text(encoding="utf-8").replace("within: 2時間", "within: 90分")
    )

    restarted = make_runtime(database_url, sink, clock, policy=edited)

    assert restarted.registry.active is not None
    assert restarted.registry.active.spec.steps[3].within == "90分"
    assert [by for _, by in _activations(restarted)][-1] == "configuration"
    assert len(_activations(restarted)) == 3
    again = make_runtime(database_url, sink, clock, policy=edited)
    assert len(_activations(again)) == 3  # the same content again: nothing new to record


def test_an_activation_in_one_process_applies_to_intake_in_another(
    database_url: str, sink: MailSink, clock: FakeClock
) -> None:
    web = make_runtime(database_url, sink, clock)
    other = make_runtime(database_url, sink, clock)
    stricter = activate_checked(web.registry, _checked(web), make_account(web, "admin"))

    complaint_id = _submit(other)

    with other.sessions() as session:
        row = session.get(ComplaintRow, complaint_id)
        assert row is not None
        assert row.policy_version == stricter.policy.version
    assert other.registry.active is not None
    assert other.registry.active.policy.version == stricter.policy.version


def test_only_an_active_admin_account_may_be_named_as_the_activator(runtime: Runtime) -> None:
    admin = make_account(runtime, "admin")
    auditor = make_account(runtime, "auditor")
    with runtime.sessions() as session:
        assert admin_username(session, admin.upper()) == admin
        for name in (auditor, "nobody"):
            with pytest.raises(RuntimeProblem, match="is not an active admin account"):
                admin_username(session, name)


def _copy_clinic(folder: Path, text: str) -> Path:
    """A policy file beside copies of the clinic's org and templates, as an edited deployment has."""
    shutil.copytree(CLINIC.parent / "orgs", folder / "orgs")
    shutil.copytree(CLINIC.parent / "templates", folder / "templates")
    path = folder / "clinic.yaml"
    path.write_text(text, encoding="utf-8")
    return path
