"""Every deadline is enforced, over random policies and histories whose heard and occurred times may
lie ahead of the receipt (tests/strategies.py):

- every obligation due by ``until`` ends met, cancelled or handed over, or it was missed (overdue or
  late) and its occurrence has exactly one violation (of whoever owned it at the due time: a new
  owner after the due time can still finish it, and shows overdue or late without one of their own);
- ``simulate``'s violations are the missed (overdue or late) occurrences of one ``decide`` at ``until``;
- whenever something is still owed (an open obligation, or a step whose anchor lies ahead), the
  engine asks to be woken no later than it falls due or starts.
"""

from collections import Counter
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.decisions import Decisions, ObligationStatus
from models.events import ComplaintReceived, Event
from models.org import Org
from policies.engine.decide import decide
from policies.engine.simulate import simulate
from policies.language.compiled import CompiledPolicy
from policies.language.expressions import AnchorKind
from tests.strategies import histories, policies

ENFORCE = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
AHEAD = 90  # minutes the heard and occurred times may lie after the receipt
SETTLED = {ObligationStatus.MET, ObligationStatus.CANCELLED, ObligationStatus.HANDED_OVER}
MISSED = {ObligationStatus.OVERDUE, ObligationStatus.LATE}

Occurrence = tuple[str, str, int]


def _drawn(data: st.DataObject) -> tuple[CompiledPolicy, Org, list[Event], datetime]:
    generated = data.draw(policies(), label="policy")
    history = data.draw(histories(generated, tail_minutes=60, ahead_minutes=AHEAD), label="history")
    policy, org = generated.compiled
    return policy, org, history.events, history.until


@ENFORCE
@given(data=st.data())
def test_every_obligation_due_is_settled_or_has_exactly_one_violation(data: st.DataObject) -> None:
    policy, org, events, until = _drawn(data)
    sim = simulate(policy, org, events, until)
    found = Counter((d.violation.complaint, d.violation.step, d.violation.occurrence) for d in sim.violations)
    for obligation in sim.obligations:
        if obligation.due_at > until:
            continue
        assert obligation.status in SETTLED | MISSED, obligation
        if obligation.status in MISSED:
            assert found[obligation.complaint, obligation.step, obligation.occurrence] == 1, obligation


@ENFORCE
@given(data=st.data())
def test_simulate_finds_the_missed_occurrences_of_one_decide(data: st.DataObject) -> None:
    policy, org, events, until = _drawn(data)
    sim = simulate(policy, org, events, until)
    once = decide(policy, org, events, until)
    missed = {(o.complaint, o.step, o.occurrence) for o in once.obligations if o.status in MISSED}
    found = [(d.violation.complaint, d.violation.step, d.violation.occurrence) for d in sim.violations]
    assert sorted(found) == sorted(missed)
    # The violation is the one who owned it at the due time: theirs is the overdue (or late) part.
    owners = {o.key: o.status for o in once.obligations}
    assert all(owners.get(d.violation.key) in MISSED for d in sim.violations)


def _owed_from(policy: CompiledPolicy, org: Org, known: list[Event], now: datetime) -> list[datetime]:
    """When each thing still owed at ``now`` falls due or starts, with no further event: the due
    time of every open obligation, and the start of every step whose anchor lies ahead."""
    current = decide(policy, org, known, now)
    due = [o.due_at for o in current.obligations if o.status is ObligationStatus.OPEN]
    later = decide(policy, org, known, now + timedelta(days=3))
    return due + [o.started_at for o in later.obligations if o.started_at > now]


def _wake(decisions: Decisions) -> datetime | None:
    return decisions.wake_at


@ENFORCE
@given(data=st.data(), offsets=st.lists(st.integers(0, 24 * 60), min_size=1, max_size=4))
def test_whatever_is_still_owed_has_a_wake_up_before_it(data: st.DataObject, offsets: list[int]) -> None:
    policy, org, events, until = _drawn(data)
    first = min(e.at for e in events)
    moments = sorted({e.at for e in events} | {first + timedelta(minutes=m) for m in offsets})
    for now in (m for m in moments if m <= until):
        known = [e for e in events if e.at <= now]
        owed = _owed_from(policy, org, known, now)
        if not owed:
            continue
        wake = _wake(decide(policy, org, known, now))
        assert wake is not None, (now, sorted(owed))
        assert now < wake <= min(owed), (now, wake, sorted(owed))


def test_the_histories_put_anchors_ahead_of_the_receipt() -> None:
    """Guard against a vacuous generator: heard and occurred times after the receipt do occur, and
    steps anchored there start after it."""
    seen: Counter[str] = Counter()

    @settings(max_examples=60, deadline=None, derandomize=True, database=None)
    @given(data=st.data())
    def sample(data: st.DataObject) -> None:
        policy, org, events, until = _drawn(data)
        received = {e.complaint: e.at for e in events if isinstance(e, ComplaintReceived)}
        for obligation in decide(policy, org, events, until).obligations:
            step = policy.step(obligation.step)
            anchored = step is not None and step.anchor.kind in {AnchorKind.HEARD, AnchorKind.OCCURRED}
            if anchored and obligation.started_at > received[obligation.complaint]:
                seen[obligation.status.value] += 1

    sample()
    assert seen["overdue"], seen
    assert seen["met"], seen
