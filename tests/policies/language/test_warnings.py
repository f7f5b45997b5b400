"""``policy check`` warnings: valid policies that probably do not mean what they say. A warning is
reported with its place in the file and never makes the policy invalid."""

from pathlib import Path
from typing import Any

import pytest

from policies.api import prepare
from tests.factories import make_policy, step

POLICIES = Path(__file__).resolve().parents[3] / "policies"


def _warnings(tmp_path: Path, steps: list[dict[str, Any]], **fields: Any) -> list[str]:
    ready = make_policy(tmp_path, steps, **fields)  # loads: a warning is not a problem
    return [str(w) for w in ready.loaded.warnings]


def test_a_reminder_every_minute_for_366_days_is_warned_about(tmp_path: Path) -> None:
    found = _warnings(tmp_path, [step("report", within="366d", remind={"every": "1m"})])
    # 527039 reminders fit before the deadline (366 × 1440 minutes); without max: the engine stops
    # at 10000.
    assert len(found) == 1
    assert "policy.yaml:" in found[0]
    assert ": warning: step 'report' reminds every 1m until its 366d deadline" in found[0]
    assert "can send 10000 reminders (the limit is 100)" in found[0]


@pytest.mark.parametrize(
    ("remind", "warned"),
    [
        ({"every": "1m"}, True),  # 119 reminders within 2 hours
        ({"every": "1m", "max": 100}, False),  # bounded by max
        ({"every": "1m", "max": 500}, True),
        ({"every": "1m", "max": 101}, True),
        ({"every": "72s"}, False),  # 99: at 72 s, 144 s, … up to 7128 s
        ({"every": "70s"}, True),  # 102
    ],
)
def test_reminders_are_counted_per_occurrence_with_max(
    tmp_path: Path, remind: dict[str, Any], warned: bool
) -> None:
    found = _warnings(tmp_path, [step("report", within="2h", remind=remind)])
    assert bool(found) is warned, found


def test_reminders_in_another_unit_than_the_deadline_are_counted_on_the_calendar(tmp_path: Path) -> None:
    """3 working days of 09:00-18:00 span at least 27 hours of wall-clock time (more over a
    weekend): a reminder every 10 minutes sends well over 100."""
    steps = [step("report", within="3 working days", remind={"every": "10m"})]
    found = _warnings(tmp_path, steps, calendar={"working_hours": "09:00-18:00"})
    assert len(found) == 1, found
    assert "more than 100 reminders" in found[0]
    assert not _warnings(tmp_path, [step("report", within="3 working days", remind={"every": "4h"})])


def test_an_escalation_back_to_the_step_owner_is_warned_about(tmp_path: Path) -> None:
    """The owner (boss) takes an unassigned complaint; escalating to person(boss) tells her of her
    own miss while her supervisor (exec) hears nothing."""
    escalate = {"escalate": [{"to": "person(boss)", "template": "late"}]}
    found = _warnings(tmp_path, [step("respond", actor="handler", on_missed=escalate)], owner="person(boss)")
    assert len(found) == 1
    assert ": warning: step 'respond': its last escalation can reach only boss, who owns the step" in found[0]
    assert "e.g. supervisor_of(handler)" in found[0]


def test_supervisor_of_a_fallen_back_handler_is_the_owners_supervisor(tmp_path: Path) -> None:
    """supervisor_of(handler) with no handler is supervisor_of(the owner): exec, not boss."""
    escalate = {"escalate": [{"to": "supervisor_of(handler)", "template": "late"}]}
    steps = [step("respond", actor="handler", on_missed=escalate)]
    assert _warnings(tmp_path, steps, owner="person(boss)") == []


def test_nobody_above_the_top_of_the_org_is_no_warning(tmp_path: Path) -> None:
    """The president heard it herself and has no supervisor: there is nobody above to tell."""
    escalate = {"escalate": [{"to": "supervisor_of(first_hearer)", "template": "late"}]}
    assert _warnings(tmp_path, [step("report", on_missed=escalate)]) == []


def test_the_nursing_policy_warns_that_the_reaction_can_escalate_to_its_own_owner() -> None:
    """nursing_care: a complaint with no ward falls to the satisfaction director, and the reaction's
    second level goes to the satisfaction director: herself. The policy stays valid."""
    found = [str(w) for w in prepare(POLICIES / "nursing_care.yaml").loaded.warnings]
    assert found == [
        "policies/nursing_care.yaml:44:15: warning: step 'initial_reaction': its last escalation can"
        " reach only yangfan, who owns the step (for example when nobody is named as first hearer and"
        " the complaint names no department), so nobody else hears of the miss: escalate to someone"
        " above the owner, e.g. supervisor_of(handler)"
    ]
