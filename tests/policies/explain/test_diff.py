"""The semantic diff an administrator reads before activating a policy, and the line diff beside it."""

from typing import Any

from ruamel.yaml import YAML

from policies.explain.diff import Change, ChangeKind, Scope, diff_policies, show
from policies.language.schema import PolicySpec
from tests.factories import REPO

CLINIC_TEXT = (REPO / "policies" / "keieikai_clinic.yaml").read_text(encoding="utf-8")


def _spec(text: str) -> PolicySpec:
    return PolicySpec.model_validate(YAML(typ="safe").load(text))


def _edited(*replacements: tuple[str, str]) -> str:
    text = CLINIC_TEXT
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def _lines(before: str, after: str) -> list[str]:
    return [str(c) for c in diff_policies(_spec(before), _spec(after), before, after).changes]


def test_the_same_policy_has_no_changes_and_no_text_diff() -> None:
    diff = diff_policies(_spec(CLINIC_TEXT), _spec(CLINIC_TEXT), CLINIC_TEXT, CLINIC_TEXT)
    assert diff.same
    assert diff.text == ()


def test_a_shorter_deadline_reads_as_the_step_its_field_and_both_values() -> None:
    stricter = _edited(("within: 30分", "within: 10分"))
    diff = diff_policies(_spec(CLINIC_TEXT), _spec(stricter), CLINIC_TEXT, stricter)
    assert diff.changes == (
        Change(Scope.STEP, "report_to_supervisor", ChangeKind.CHANGED, "within", "30分", "10分"),
    )
    assert str(diff.changes[0]) == "step report_to_supervisor: within 30分 → 10分"
    assert "-    within: 30分" in diff.text
    assert "+    within: 10分" in diff.text
    assert diff.text[:2] == ("--- active", "+++ candidate")


def test_formatting_and_comments_alone_change_no_rule() -> None:
    reformatted = "# a new comment\n" + CLINIC_TEXT.replace(
        "remind: {every: 10分}", "remind:\n      every: 10分"
    )
    diff = diff_policies(_spec(CLINIC_TEXT), _spec(reformatted), CLINIC_TEXT, reformatted)
    assert diff.same
    assert "+# a new comment" in diff.text


def test_steps_added_and_removed_are_named() -> None:
    without_incident = CLINIC_TEXT[: CLINIC_TEXT.index("  # 再発防止策")]
    added = CLINIC_TEXT + (
        "  - id: callback\n    title: 折り返し\n    actor: handler\n    to: complainant\n"
        "    from: resolved\n    within: 1日\n"
    )
    assert _lines(CLINIC_TEXT, without_incident) == ["step incident_report: removed"]
    assert _lines(CLINIC_TEXT, added) == ["step callback: added"]


def test_actor_targets_anchor_reminders_conditions_and_escalation_changes_are_each_listed() -> None:
    changed = _edited(
        ("    actor: supervisor_of(first_hearer)\n", "    actor: role(executive_in_charge)\n"),
        ("    to: complainant\n    from: occurred", "    to: [complainant]\n    from: heard"),
        ("remind: {every: 15分}", "remind: {every: 5分, max: 3}\n    when: {severity: [urgent]}"),
        ("          after: 30分", "          after: 10分"),
    )
    assert _lines(CLINIC_TEXT, changed) == [
        "step supervisor_consults_top: actor supervisor_of(first_hearer) → role(executive_in_charge)",
        "step apology_call: to complainant → [complainant]",
        "step apology_call: from occurred → heard",
        "step apology_call: when — → {severity: [urgent]}",
        "step apology_call: remind {every: 15分} → {every: 5分, max: 3}",
        "step apology_call: escalate"
        " [{to: supervisor_of(handler), template: missed_response, after: 0s},"
        " {to: [role(president), role(executive_in_charge)], template: missed_response, after: 30分}]"
        " → [{to: supervisor_of(handler), template: missed_response, after: 0s},"
        " {to: [role(president), role(executive_in_charge)], template: missed_response, after: 10分}]",
    ]


def test_penalty_calendar_and_policy_level_changes() -> None:
    changed = _edited(
        ("    duration: 1年\n", "    duration: 6か月\n"),
        ('working_hours: "09:00-18:00"', 'working_hours: "08:30-17:30"'),
        ("default_handler: supervisor_of(first_hearer)", "default_handler: role(president)"),
        ("      penalty: bonus_half_cut\n", "      penalty: warning\n"),
        ("steps:\n", "  warning:\n    name: 口頭注意\n    applies_to: [first_hearer]\nsteps:\n"),
    )
    assert _lines(CLINIC_TEXT, changed) == [
        "policy: default_handler supervisor_of(first_hearer) → role(president)",
        "calendar: working_hours 09:00-18:00 → 08:30-17:30",
        "penalty bonus_half_cut: duration 1年 → 6か月",
        "penalty warning: added",
        "step report_to_supervisor: penalty bonus_half_cut → warning",
    ]


def test_show_renders_unset_values_as_a_dash() -> None:
    values: list[Any] = [None, [], {}, True, ["a", "b"], {"every": "1h", "max": None}]
    assert [show(v) for v in values] == ["—", "—", "—", "true", "[a, b]", "{every: 1h}"]
