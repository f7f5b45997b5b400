"""Engine semantics a user would notice: who owes what, when it is met, and when it becomes a violation."""

from dataclasses import replace
from pathlib import Path

from models.decisions import Decisions, NotificationKind, ObligationStatus
from models.events import Event
from policies.engine.decide import decide
from policies.language.expressions import parse_actor
from tests.factories import (
    T0,
    assigned,
    at,
    classified,
    done,
    make_policy,
    received,
    reopened,
    resolved,
    step,
)


def _status(decisions: Decisions, step_id: str) -> list[tuple[str, ObligationStatus]]:
    return [(o.actor, o.status) for o in decisions.obligations if o.step == step_id]


def test_report_to_any_of_targets_is_met_by_either(tmp_path: Path) -> None:
    ready = make_policy(
        tmp_path,
        [step("consult", actor="supervisor_of(first_hearer)", to=["role(president)", "role(executive)"])],
    )
    for target in ("pres", "exec"):
        result = decide(
            ready.policy, ready.org, [received(), done("consult", "boss", at(20), target)], at(120)
        )
        assert _status(result, "consult") == [("boss", ObligationStatus.MET)]
        assert result.violations == ()


def test_report_to_someone_outside_the_targets_does_not_count(tmp_path: Path) -> None:
    ready = make_policy(tmp_path, [step("report", to="supervisor_of(first_hearer)")])
    result = decide(ready.policy, ready.org, [received(), done("report", "amy", at(5), "ben")], at(61))
    assert [(v.actor, v.step) for v in result.violations] == [("amy", "report")]


def test_someone_else_doing_the_step_does_not_discharge_the_owner(tmp_path: Path) -> None:
    ready = make_policy(tmp_path, [step("report", to="supervisor_of(first_hearer)")])
    result = decide(ready.policy, ready.org, [received(), done("report", "ben", at(5), "boss")], at(61))
    assert [v.actor for v in result.violations] == ["amy"]


def test_late_report_keeps_the_violation_and_marks_the_obligation_late(tmp_path: Path) -> None:
    ready = make_policy(tmp_path, [step("report", to="supervisor_of(first_hearer)")])
    result = decide(ready.policy, ready.org, [received(), done("report", "amy", at(90), "boss")], at(120))
    assert _status(result, "report") == [("amy", ObligationStatus.LATE)]
    assert [v.due_at for v in result.violations] == [at(60)]


def test_report_exactly_at_the_due_time_is_on_time(tmp_path: Path) -> None:
    ready = make_policy(tmp_path, [step("report", to="supervisor_of(first_hearer)")])
    result = decide(ready.policy, ready.org, [received(), done("report", "amy", at(60), "boss")], at(120))
    assert _status(result, "report") == [("amy", ObligationStatus.MET)]
    assert result.violations == ()


def test_no_violation_before_the_due_time_and_wake_at_is_the_due_time(tmp_path: Path) -> None:
    ready = make_policy(tmp_path, [step("report", to="supervisor_of(first_hearer)")])
    result = decide(ready.policy, ready.org, [received()], at(59))
    assert result.violations == ()
    assert _status(result, "report") == [("amy", ObligationStatus.OPEN)]
    assert result.wake_at == at(60)


def test_reminders_repeat_until_done_and_respect_max(tmp_path: Path) -> None:
    ready = make_policy(
        tmp_path,
        [
            step("call", to="complainant", within="2h", remind={"every": "15m"}),
            step("note", within="2h", remind={"every": "15m", "max": 2}),
        ],
    )
    result = decide(
        ready.policy, ready.org, [received(), done("call", "amy", at(50), "complainant")], at(200)
    )
    reminders = [
        n.at for n in result.notifications if n.kind is NotificationKind.REMINDER and n.step == "call"
    ]
    assert reminders == [at(15), at(30), at(45)]
    capped = [n for n in result.notifications if n.kind is NotificationKind.REMINDER and n.step == "note"]
    assert [n.at for n in capped] == [at(15), at(30)]


def test_escalation_levels_fire_after_the_due_time_unless_done(tmp_path: Path) -> None:
    escalate = [
        {"to": "supervisor_of(first_hearer)", "template": "late"},
        {"to": "role(president)", "template": "later", "after": "30m"},
    ]
    ready = make_policy(
        tmp_path, [step("report", to="supervisor_of(first_hearer)", on_missed={"escalate": escalate})]
    )
    missed = decide(ready.policy, ready.org, [received()], at(120))
    sent = [(n.at, n.to, n.template) for n in missed.notifications if n.kind is NotificationKind.ESCALATION]
    assert sent == [(at(60), ("boss",), "late"), (at(90), ("pres",), "later")]
    late = decide(ready.policy, ready.org, [received(), done("report", "amy", at(75), "boss")], at(120))
    assert [n.at for n in late.notifications if n.kind is NotificationKind.ESCALATION] == [at(60)]


def test_a_group_role_is_owed_by_anyone_in_it(tmp_path: Path) -> None:
    ready = make_policy(tmp_path, [step("ack", actor="role(desk)", anchor="received", within="30s")])
    result = decide(ready.policy, ready.org, [received(), done("ack", "d2", at(0.25))], at(10))
    assert _status(result, "ack") == [("role:desk", ObligationStatus.MET)]
    request = next(n for n in result.notifications if n.step == "ack")
    assert request.to == ("d1", "d2")


def test_handover_moves_the_obligation_to_the_new_handler(tmp_path: Path) -> None:
    """R16: whoever receives a problem owns it until it is handed over explicitly."""
    ready = make_policy(
        tmp_path, [step("respond", actor="handler", within="2h")], default_handler="person(amy)"
    )
    result = decide(ready.policy, ready.org, [received(), assigned("ben", at(30))], at(180))
    assert _status(result, "respond") == [
        ("amy", ObligationStatus.HANDED_OVER),
        ("ben", ObligationStatus.OVERDUE),
    ]
    assert [(v.actor, v.due_at) for v in result.violations] == [("ben", at(120))]


def test_urgent_track_starts_when_reclassified_and_general_track_is_cancelled(tmp_path: Path) -> None:
    ready = make_policy(
        tmp_path,
        [
            step("fix_urgent", actor="department_head(ward)", within="1h", when={"severity": ["urgent"]}),
            step("answer", actor="role(desk)", within="3h", when={"severity": ["normal"]}),
        ],
    )
    history: list[Event] = [received(severity="normal"), classified(at(30), severity="urgent")]
    result = decide(ready.policy, ready.org, history, at(240))
    assert _status(result, "answer") == [("role:desk", ObligationStatus.CANCELLED)]
    urgent = next(o for o in result.obligations if o.step == "fix_urgent")
    assert (urgent.actor, urgent.started_at, urgent.due_at) == ("boss", at(30), at(90))


def test_repeating_progress_updates_stop_at_resolution(tmp_path: Path) -> None:
    ready = make_policy(
        tmp_path,
        [step("progress", actor="handler", anchor="received", within="1d", repeat={"until": "resolved"})],
        default_handler="supervisor_of(first_hearer)",
    )
    history: list[Event] = [received(), done("progress", "boss", at(600)), resolved(at(60 * 30))]
    result = decide(ready.policy, ready.org, history, at(60 * 24 * 5))
    assert _status(result, "progress") == [
        ("boss", ObligationStatus.MET),
        ("boss", ObligationStatus.CANCELLED),
    ]
    assert result.violations == ()


def test_steps_after_each_resolution_and_reopening(tmp_path: Path) -> None:
    ready = make_policy(
        tmp_path,
        [
            step("callback", actor="handler", to="complainant", anchor="resolved", within="24h"),
            step("reassess", actor="handler", anchor="reopened", within="1h"),
        ],
        default_handler="person(ben)",
    )
    history: list[Event] = [received(), resolved(at(60)), reopened(at(120)), resolved(at(600))]
    result = decide(ready.policy, ready.org, history, at(60 * 48))
    assert [(v.step, v.occurrence, v.due_at) for v in result.violations] == [
        ("reassess", 1, at(180)),
        ("callback", 1, at(60 + 24 * 60)),
        ("callback", 2, at(600 + 24 * 60)),
    ]


def test_closes_on_cancels_an_open_step(tmp_path: Path) -> None:
    ready = make_policy(tmp_path, [step("answer", within="3h", closes_on=["resolved"])])
    result = decide(ready.policy, ready.org, [received(), resolved(at(60))], at(600))
    assert _status(result, "answer") == [("amy", ObligationStatus.CANCELLED)]
    assert result.violations == ()


def test_step_waiting_for_another_starts_when_it_is_done(tmp_path: Path) -> None:
    ready = make_policy(
        tmp_path,
        [
            step("report", to="supervisor_of(first_hearer)"),
            step("consult", actor="supervisor_of(first_hearer)", anchor="done(report)"),
        ],
    )
    before = decide(ready.policy, ready.org, [received()], at(600))
    assert [o.step for o in before.obligations] == ["report"]
    after = decide(ready.policy, ready.org, [received(), done("report", "amy", at(10), "boss")], at(600))
    consult = next(o for o in after.obligations if o.step == "consult")
    assert (consult.started_at, consult.due_at, consult.status) == (at(10), at(70), ObligationStatus.OVERDUE)


def test_unresolvable_actor_falls_back_to_the_owner(tmp_path: Path) -> None:
    """R13: every problem has a clear responsible person, even when the directory has a gap."""
    ready = make_policy(tmp_path, [step("report", actor="supervisor_of(first_hearer)")])
    result = decide(ready.policy, ready.org, [received(heard_by="pres")], at(600))
    assert [v.actor for v in result.violations] == ["pres"]


def test_receipt_goes_to_the_complainant_with_an_email_only(tmp_path: Path) -> None:
    ready = make_policy(tmp_path, [step("report")], receipt={"template": "receipt", "channels": ["web"]})
    with_email = received(channel="web", complainant={"email": "p@example.org"})
    result = decide(ready.policy, ready.org, [with_email], T0)
    assert [(n.kind, n.to) for n in result.notifications if n.step is None] == [
        (NotificationKind.RECEIPT, ("complainant",))
    ]
    anonymous = decide(ready.policy, ready.org, [received(channel="web")], T0)
    assert all(n.kind is not NotificationKind.RECEIPT for n in anonymous.notifications)


def test_an_unclassified_complaint_counts_as_the_first_listed_severity(tmp_path: Path) -> None:
    """A complaint nobody has triaged yet still gets the general track's deadline."""
    ready = make_policy(
        tmp_path,
        [
            step("general", within="3h", when={"severity": ["normal"]}),
            step("urgent", within="1h", when={"severity": ["urgent"]}),
        ],
    )
    result = decide(ready.policy, ready.org, [received()], at(240))
    assert [(v.step, v.due_at) for v in result.violations] == [("general", at(180))]


def test_nothing_is_sent_before_the_complaint_reached_the_system(tmp_path: Path) -> None:
    """The deadline counts from when it occurred, but requests can only go out once it is logged;
    reminders that would have fallen before then are not sent in a burst."""
    ready = make_policy(tmp_path, [step("call", anchor="occurred", within="2h", remind={"every": "15m"})])
    late_logged = received(occurred_at=at(-60))
    result = decide(ready.policy, ready.org, [late_logged], at(30))
    sent = [(n.kind, n.at) for n in result.notifications]
    assert sent == [
        (NotificationKind.REQUEST, at(0)),
        (NotificationKind.REMINDER, at(15)),
        (NotificationKind.REMINDER, at(30)),
    ]
    assert next(o.due_at for o in result.obligations) == at(60)


def test_the_new_owner_can_finish_an_overdue_step_but_the_violation_stays(tmp_path: Path) -> None:
    """R16: handed over after the due time, the step is still owed; the miss was the first owner's."""
    ready = make_policy(
        tmp_path, [step("respond", actor="handler", within="1h")], default_handler="person(amy)"
    )
    history: list[Event] = [received(), assigned("ben", at(90)), done("respond", "ben", at(100))]
    result = decide(ready.policy, ready.org, history, at(180))
    assert _status(result, "respond") == [("amy", ObligationStatus.OVERDUE), ("ben", ObligationStatus.LATE)]
    assert [v.actor for v in result.violations] == ["amy"]


def test_defaults_defined_in_terms_of_each_other_fall_back_to_the_owner(tmp_path: Path) -> None:
    """`check` rejects such a policy; a policy compiled without it must still not recurse forever."""
    ready = make_policy(tmp_path, [step("respond", actor="handler")])
    looping = replace(
        ready.policy,
        default_first_hearer=parse_actor("handler"),
        default_handler=parse_actor("supervisor_of(first_hearer)"),
    )
    result = decide(looping, ready.org, [received(heard_by=None)], at(120))
    assert [v.actor for v in result.violations] == ["pres"]


def test_a_handover_at_the_due_instant_leaves_the_miss_with_the_first_owner(tmp_path: Path) -> None:
    """R16: the new handler never had a moment to act (found by the violation property)."""
    steps = [step("respond", actor="handler", within="1h")]
    ready = make_policy(tmp_path, steps, default_handler="person(amy)")
    history: list[Event] = [received(), assigned("ben", at(60))]
    result = decide(ready.policy, ready.org, history, at(120))
    assert [v.actor for v in result.violations] == ["amy"]
    overdue = ObligationStatus.OVERDUE
    assert _status(result, "respond") == [("amy", overdue), ("ben", overdue)]


def test_a_heard_time_ahead_of_the_receipt_wakes_the_engine_then(tmp_path: Path) -> None:
    """Heard 3 minutes after the server received it (a clock running ahead): the step starts at
    the heard time, and the engine asks to be woken then, with no further event needed."""
    ready = make_policy(tmp_path, [step("report", to="supervisor_of(first_hearer)", within="30m")])
    history = [received(heard_at=at(3))]
    assert decide(ready.policy, ready.org, history, at(0)).wake_at == at(3)
    later = decide(ready.policy, ready.org, history, at(33))
    assert [(v.actor, v.due_at) for v in later.violations] == [("amy", at(33))]


def test_a_step_done_before_a_heard_time_ahead_of_the_receipt_counts(tmp_path: Path) -> None:
    """Reported a minute after the receipt, before the (fast) heard time: met, not a violation,
    and no request for what is already done."""
    ready = make_policy(tmp_path, [step("report", to="supervisor_of(first_hearer)", within="30m")])
    history: list[Event] = [received(heard_at=at(3)), done("report", "amy", at(1), "boss")]
    result = decide(ready.policy, ready.org, history, at(60))
    assert _status(result, "report") == [("amy", ObligationStatus.MET)]
    assert result.violations == ()
    assert [n.kind for n in result.notifications if n.step == "report"] == []
