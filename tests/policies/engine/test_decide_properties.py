"""Properties of the pure engine over random event histories (hypothesis).

- a violation exists iff its obligation was still open at its due time, and stays once recorded;
- replaying the same events (in any order) gives the same decisions;
- an irrelevant event (another complaint, an unknown step, anything after ``now``) changes nothing;
- stepping through wake-ups (``simulate``) finds exactly what one call at the end finds.
"""

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.decisions import Decisions, ObligationStatus
from models.events import Event
from policies.api import Ready
from policies.engine.decide import decide
from policies.engine.simulate import simulate
from tests.factories import (
    ORG,
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

PEOPLE = [p["id"] for p in ORG["people"]]
STEPS = ["report", "consult", "respond", "fix_urgent", "progress", "callback", "reassess"]


@pytest.fixture(scope="module")
def ready(tmp_path_factory: pytest.TempPathFactory) -> Ready:
    folder: Path = tmp_path_factory.mktemp("policy")
    escalate = [{"to": "role(president)", "template": "late"}, {"to": "role(executive)", "after": "20m"}]
    return make_policy(
        folder,
        [
            step("report", to="supervisor_of(first_hearer)", within="30m", remind={"every": "10m"}),
            step(
                "consult",
                actor="supervisor_of(first_hearer)",
                to=["role(president)", "role(executive)"],
                within="1h",
                on_missed={"penalty": "cut", "escalate": escalate},
            ),
            step(
                "respond",
                actor="handler",
                to="complainant",
                anchor="occurred",
                within="2h",
                remind={"every": "15m"},
            ),
            step(
                "fix_urgent",
                actor="department_head(ward)",
                anchor="received",
                within="1h",
                when={"severity": ["urgent"]},
            ),
            step(
                "progress", actor="handler", anchor="done(respond)", within="3h", repeat={"until": "resolved"}
            ),
            step(
                "callback",
                actor="handler",
                to="complainant",
                anchor="resolved",
                within="4h",
                closes_on=["reopened"],
            ),
            step("reassess", actor="role(desk)", anchor="reopened", within="1h"),
        ],
        default_handler="supervisor_of(first_hearer)",
        penalties={"cut": {"name": "Bonus cut", "applies_to": ["supervisor_of(first_hearer)"]}},
    )


minutes = st.integers(min_value=0, max_value=600)
person = st.sampled_from(PEOPLE)
target = st.one_of(st.none(), st.sampled_from([*PEOPLE, "complainant"]))


@st.composite
def histories(draw: st.DrawFn) -> list[Event]:
    severity = draw(st.sampled_from(["normal", "urgent"]))
    first = received(heard_by=draw(person), severity=severity, department="ward")
    makers = st.one_of(
        st.builds(lambda s, b, t, m: done(s, b, at(m), t), st.sampled_from(STEPS), person, target, minutes),
        st.builds(lambda h, m: assigned(h, at(m)), person, minutes),
        st.builds(lambda s, m: classified(at(m), severity=s), st.sampled_from(["normal", "urgent"]), minutes),
        st.builds(lambda m: resolved(at(m)), minutes),
        st.builds(lambda m: reopened(at(m)), minutes),
    )
    return [first, *draw(st.lists(makers, max_size=12))]


NOWS = st.integers(min_value=0, max_value=900).map(at)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _view(decisions: Decisions) -> tuple[object, ...]:
    return decisions.obligations, decisions.notifications, decisions.violations, decisions.wake_at


@FAST
@given(history=histories(), now=NOWS)
def test_violation_iff_obligation_open_at_its_due_time(
    ready: Ready, history: list[Event], now: datetime
) -> None:
    final = decide(ready.policy, ready.org, history, now)
    violated = {v.key for v in final.violations}
    for obligation in final.obligations:
        if obligation.due_at > now or obligation.status is ObligationStatus.HANDED_OVER:
            assert obligation.key not in violated
            continue
        just_before = decide(ready.policy, ready.org, history, obligation.due_at - timedelta(microseconds=1))
        was_open = any(
            o.key == obligation.key and o.status is ObligationStatus.OPEN for o in just_before.obligations
        )
        at_due = decide(ready.policy, ready.org, history, obligation.due_at)
        still_open = any(
            o.key == obligation.key and o.status is ObligationStatus.OVERDUE for o in at_due.obligations
        )
        assert (obligation.key in violated) == (was_open and still_open), obligation


@FAST
@given(history=histories(), now=NOWS, seed=st.randoms(use_true_random=False))
def test_replaying_the_same_events_gives_the_same_decisions(
    ready: Ready, history: list[Event], now: datetime, seed: object
) -> None:
    shuffled = list(history)
    seed.shuffle(shuffled)  # type: ignore[attr-defined]
    first = decide(ready.policy, ready.org, history, now)
    assert _view(first) == _view(decide(ready.policy, ready.org, history, now))
    assert _view(first) == _view(decide(ready.policy, ready.org, shuffled, now))


@FAST
@given(history=histories(), now=NOWS, other=histories(), later=st.integers(min_value=1, max_value=300))
def test_an_irrelevant_event_changes_nothing(
    ready: Ready, history: list[Event], now: datetime, other: list[Event], later: int
) -> None:
    baseline = _view(decide(ready.policy, ready.org, history, now))
    other_complaint = [e.model_copy(update={"complaint": "C-2"}) for e in other]
    unknown_step = done("no_such_step", "amy", now, "boss")
    after_now = done("report", "amy", now + timedelta(minutes=later), "boss")
    for extra in (other_complaint, [unknown_step], [after_now]):
        result = decide(ready.policy, ready.org, [*history, *extra], now)
        mine = Decisions(
            now=result.now,
            obligations=tuple(o for o in result.obligations if o.complaint == "C-1"),
            notifications=tuple(n for n in result.notifications if n.complaint == "C-1"),
            violations=tuple(v for v in result.violations if v.complaint == "C-1"),
            wake_at=decide(ready.policy, ready.org, [*history, *extra[:0]], now).wake_at,
        )
        assert _view(mine) == baseline


@FAST
@given(history=histories(), until=NOWS)
def test_stepping_through_wake_ups_finds_what_one_call_finds(
    ready: Ready, history: list[Event], until: datetime
) -> None:
    stepped = simulate(ready.policy, ready.org, history, until)
    once = decide(ready.policy, ready.org, history, until)
    assert {n.key for n in stepped.notifications} == {n.key for n in once.notifications}
    assert {d.violation.key for d in stepped.violations} == {v.key for v in once.violations}
    for detected in stepped.violations:
        assert detected.detected_at == detected.violation.due_at


def test_properties_see_real_violations(ready: Ready) -> None:
    """Guard against a vacuous generator: the silent history does produce violations and reminders."""
    result = decide(
        ready.policy, ready.org, [received(heard_by="amy", severity="urgent", department="ward")], at(900)
    )
    assert {v.step for v in result.violations} >= {"report", "consult", "respond", "fix_urgent"}
    assert result.violations[0].due_at > T0
