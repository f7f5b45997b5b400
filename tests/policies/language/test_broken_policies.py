"""Broken policies and org directories: every problem, with its exact message and its line:col.

Each fixture under ``broken/`` is a minimal policy with one kind of mistake (``orgs/`` holds their
small org directories, ``templates/`` a template folder with some templates missing). ``CASES`` lists,
for each file, the complete sorted list of problems: ``line:col: message`` for the policy file itself,
``file:line:col: message`` for a problem in another file (its org directory). The tests run inside
``broken/`` so that paths in messages are short and stable.
"""

import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli.main import app
from models.org import Org
from policies.errors import PolicyInvalid, Problem
from policies.language.loader import LoadedPolicy, load_org, load_policy
from policies.language.source import parse_located

BROKEN = Path(__file__).resolve().parent / "broken"
REPO = Path(__file__).resolve().parents[3]
CLI = Path(sys.executable).parent / "complaintflow"  # the venv's console script

CASES: dict[str, list[str]] = {
    # Not a YAML mapping at all: the load stops at the first such problem (all duplicate keys at once).
    "yaml_syntax.yaml": [
        (
            "6:1: invalid YAML: expected ',' or ']', but got '<stream end>' (while parsing a flow "
            "sequence that starts at line 5, column 12)"
        ),
    ],
    "tab_indent.yaml": [
        "10:1: invalid YAML: a tab cannot indent YAML: use spaces",
    ],
    "colon_in_value.yaml": [
        "9:16: invalid YAML: a ': ' inside a value starts a mapping here: put the value in quotes",
    ],
    "undefined_alias.yaml": [
        "6:8: invalid YAML: found undefined alias 'boss'",
    ],
    "duplicate_key.yaml": [
        "7:1: duplicate key 'owner' (first given on line 6): remove one",
        "15:5: duplicate key 'within' (first given on line 14): remove one",
    ],
    "not_utf8.yaml": [
        "2:10: file is not UTF-8: byte 0xe9 cannot be decoded; save the file as UTF-8",
    ],
    "empty_file.yaml": [
        "1:1: a policy must be a mapping of keys to values (id:, name:, steps: ...), not an empty value",
    ],
    "top_level_list.yaml": [
        "1:1: a policy must be a mapping of keys to values (id:, name:, steps: ...), not a list",
    ],
    "alias_bomb.yaml": [
        (
            "8:12: alias *e makes the document expand to more than 200000 values (an alias bomb, 'billion"
            " laughs'?): write the values out instead of nesting aliases"
        ),
    ],
    "deep_nesting.yaml": [
        "3:78: the document is nested deeper than 64 levels; a policy never needs that much",
    ],
    "deep_block_nesting.yaml": [
        "4:129: the document is nested deeper than 64 levels; a policy never needs that much",
    ],
    # The policy's shape (schema.py), located at the offending key or value.
    "unknown_top_key.yaml": [
        "7:1: unknown key 'penalty' (did you mean 'penalties'?)",
    ],
    "unknown_step_key.yaml": [
        "14:5: unknown key 'remindr' (did you mean 'remind'?)",
    ],
    "wrong_types.yaml": [
        "7:13: categories: expected a mapping of keys to values, got a list",
        "11:12: actor: expected text, got a list",
        "12:9: to: expected a list or text, got the number 5",
        "14:13: within: 5 has no unit: write for example '5h' or '5 working days'",
        "15:21: channel: expected a list, got the text 'web' (write [web])",
        "16:5: steps: expected a mapping of keys to values, got the text 'just a string'",
    ],
    "steps_not_list.yaml": [
        "8:3: steps: expected a list, got a mapping",
    ],
    "missing_key.yaml": [
        "1:1: missing required key 'timezone'",
        "7:5: missing required key 'within' in step 'report'",
    ],
    "bad_choices.yaml": [
        "1:5: id: 'bad id' is not a valid id: use letters, digits, _ and -, starting with a letter",
        "2:7: name: must not be empty",
        "3:11: language: 'fr' is not allowed: use one of ja, zh, en",
        (
            "7:22: channels: 'fax' is not allowed: use one of web, email, phone, desk, social_media, "
            "third_party, survey"
        ),
        (
            "11:11: kind: 'reprt' is not allowed (did you mean 'report'?): use one of report, "
            "acknowledge, assess, respond, corrective_action, investigate, resolve, callback, survey, "
            "progress_update, incident_report, action"
        ),
        "13:39: to: expected text, got the number 7",
        "16:31: max: must be at least 1, not 0",
    ],
    "bad_duration.yaml": [
        (
            "13:13: within: unknown duration unit 'fortnights' in '2 fortnights' (use s, m, h, d, w, "
            "working days, working hours, or 秒, 分, 時間, 日, 営業日, 小时, 天, 工作日)"
        ),
    ],
    "bad_actor.yaml": [
        (
            "10:12: actor: unknown actor function 'boss_of': use first_hearer, handler, complainant, "
            "role(ID), person(ID), department_head(ID|complaint) or supervisor_of(ACTOR)"
        ),
    ],
    "bad_anchor.yaml": [
        (
            "12:11: from: 'after(heard)' is not an anchor: use heard, occurred, received, resolved, "
            "reopened or done(STEP)"
        ),
    ],
    "unknown_timezone.yaml": [
        "4:11: timezone: unknown time zone 'Asia/Tokio' (use an IANA name such as Asia/Tokyo)",
    ],
    # The calendar.
    "unknown_holidays.yaml": [
        "8:13: unknown holiday calendar 'XX': use an ISO country code such as JP, CN, US",
    ],
    "unknown_subdivision.yaml": [
        (
            "9:16: unknown subdivision 'CAA' of holiday calendar 'US' (did you mean 'CA'?): use one of "
            "AK, AL, AR, AS, AZ, CA, CO, CT, DC, DE, ..."
        ),
    ],
    "working_hours_malformed.yaml": [
        "8:18: working hours '9-18' must look like 09:00-18:00 (HH:MM-HH:MM)",
    ],
    "working_hours_not_times.yaml": [
        "8:18: working hours '09:00-25:00' are not times of day (00:00 to 24:00)",
    ],
    "working_hours_backwards.yaml": [
        (
            "8:18: working hours '18:00-09:00' end before they start, so working-time deadlines could "
            "never be met: the window must lie within one day, e.g. 09:00-18:00"
        ),
    ],
    # Who acts: references into the org directory, and actors that can never be found.
    "unknown_role.yaml": [
        (
            "11:9: unknown role 'managr' in orgs/small.yaml (did you mean 'manager'?); its roles are "
            "auditor, manager, staff"
        ),
    ],
    "role_held_by_nobody.yaml": [
        "11:9: role 'auditor' is held by nobody in orgs/small.yaml: add it to someone's roles there",
    ],
    "unknown_person.yaml": [
        "11:9: unknown person 'bos' in orgs/small.yaml (did you mean 'boss'?)",
    ],
    "unknown_department.yaml": [
        "11:10: unknown department 'clinc' in orgs/small.yaml (did you mean 'clinic'?)",
        "11:34: department 'lab' in orgs/small.yaml has no head: add head: to it there, or name someone else",
    ],
    "complainant_actor.yaml": [
        "10:12: the complainant cannot be a step's actor: it may only be a target, under to:",
        "16:31: the complainant cannot receive escalations: name someone on staff",
    ],
    "reports_to_self.yaml": [
        (
            "11:9: step 'report' asks role(manager) to report to themselves: remove them from to:, or "
            "make someone else the actor"
        ),
    ],
    "owner_depends_on_complaint.yaml": [
        (
            "6:8: owner 'supervisor_of(handler)' depends on the complaint, but the owner answers for "
            "every complaint (R13): name a role or person"
        ),
    ],
    "default_handler_loop.yaml": [
        (
            "7:23: default_first_hearer 'supervisor_of(first_hearer)' depends on the first hearer it "
            "stands in for, so it can never be found: name a role or person instead"
        ),
        (
            "8:18: default_handler 'handler' depends on the handler it stands in for, so it can never be "
            "found: name a role or person instead, or use supervisor_of(first_hearer)"
        ),
    ],
    "defaults_each_other.yaml": [
        (
            "8:18: default_handler 'supervisor_of(first_hearer)' and default_first_hearer 'handler' "
            "depend on each other, so neither can be found when both people are unknown: name a role or "
            "person instead in one of them"
        ),
    ],
    "missing_org.yaml": [
        "5:6: org directory orgs/nowhere.yaml does not exist (org: is relative to the policy file)",
    ],
    # How steps follow each other.
    "duplicate_step_ids.yaml": [
        "14:9: duplicate step id 'report': an earlier step already has it; give each step its own id",
    ],
    "unknown_done_step.yaml": [
        "18:11: unknown step 'reprot' in done(reprot) (did you mean 'report'?)",
    ],
    "step_cycle.yaml": [
        (
            "12:11: steps wait for each other in a cycle, so none of them ever starts: 'report' waits for"
            " 'review', which waits for 'assess', which waits for 'report'; start one of them from heard,"
            " occurred or received"
        ),
    ],
    "step_waits_for_itself.yaml": [
        (
            "12:11: step 'report' waits for itself (from: done(report)), so it never starts: start it "
            "from heard, occurred, received or another step"
        ),
    ],
    "unreachable_step.yaml": [
        (
            "23:17: step 'follow_up' is unreachable: it needs severity in [normal] but waits for "
            "'report', which only applies to severity in [urgent]"
        ),
    ],
    "unknown_condition.yaml": [
        (
            "15:16: unknown condition 'severty' (did you mean 'severity'?): use channel, category, "
            "severity, complexity, department"
        ),
    ],
    "unknown_category.yaml": [
        "18:28: unknown category 'biling' (did you mean 'billing'?); known: billing, attitude",
    ],
    "empty_when.yaml": [
        (
            "15:16: step 'report' can never start: when.channel lists no value (list at least one, or "
            "remove channel)"
        ),
    ],
    # Penalties and deadlines.
    "unknown_penalty.yaml": [
        "19:16: unknown penalty 'bonus_cutt' (did you mean 'bonus_cut'?)",
    ],
    "penalty_names_nobody.yaml": [
        "10:17: penalty 'bonus_cut' names nobody: list in applies_to whom it falls on, e.g. [first_hearer]",
    ],
    "penalty_wrong_actor.yaml": [
        (
            "19:16: penalty 'bonus_cut' applies to supervisor_of(first_hearer), not to this step's actor "
            "first_hearer: add first_hearer to its applies_to, or choose another penalty"
        ),
    ],
    "zero_deadline.yaml": [
        "13:13: a deadline of '0 minutes' can never be met: give a duration longer than 0",
    ],
    "late_reminder.yaml": [
        (
            "14:21: a reminder every 1h never fires before the 30m deadline: remind more often, or remove"
            " remind:"
        ),
    ],
    "closes_on_never.yaml": [
        (
            "14:17: 'heard' happens before the step starts, so it can never close it: use resolved, "
            "reopened or done(STEP)"
        ),
        "14:24: step 'report' cannot be closed by itself: being done already ends it, so remove done(report)",
    ],
    # Templates (checked when the policy names a template folder).
    "missing_templates.yaml": [
        "20:21: template 'missed_report' has no ja version: expected templates/ja/missed_report.j2",
        (
            "21:9: step 'respond' has no en template: expected templates/en/respond.j2 (or set template: "
            "to an existing one)"
        ),
        (
            "21:9: step 'respond' has no ja template: expected templates/ja/respond.j2 (or set template: "
            "to an existing one)"
        ),
    ],
    "missing_template_folder.yaml": [
        "7:12: template folder no_such_templates does not exist (templates: is relative to the policy file)",
    ],
    # Broken org directories: problems are reported in the org file, and the policy is rejected.
    "org_not_yaml.yaml": [
        (
            "orgs/not_yaml.yaml:3:1: invalid YAML: found unexpected end of stream (while scanning a "
            "quoted scalar that starts at line 2, column 7)"
        ),
    ],
    "org_unknown_supervisor.yaml": [
        (
            "orgs/unknown_supervisor.yaml:6:84: unknown supervisor 'bos' (did you mean 'boss'?): "
            "supervisor names the id of someone under people:"
        ),
    ],
    "org_supervisor_loop.yaml": [
        (
            "orgs/supervisor_loop.yaml:5:83: supervisors form a loop: 'boss' → 'deputy' → 'boss'; someone"
            " in it must report to someone outside it, or to nobody"
        ),
        "orgs/supervisor_loop.yaml:8:84: 'clerk' is their own supervisor: name someone else, or leave it out",
    ],
    "org_undeclared_role.yaml": [
        (
            "orgs/undeclared_role.yaml:6:64: undeclared role 'staf' (did you mean 'staff'?): declare it "
            "under roles: (declared: manager, staff)"
        ),
    ],
    "org_bad_email.yaml": [
        "orgs/bad_email.yaml:5:35: 'boss.example.org' is not a single email address (like name@example.org)",
        (
            "orgs/bad_email.yaml:6:37: 'nurse@example.org, boss@example.org' is not a single email "
            "address (like name@example.org)"
        ),
    ],
    "org_duplicate_person.yaml": [
        (
            "orgs/duplicate_person.yaml:7:10: duplicate person id 'nurse': person 2 in people: has it "
            "too; give each person their own id"
        ),
    ],
    "org_bad_departments.yaml": [
        (
            "orgs/bad_departments.yaml:5:38: unknown department head 'bos' (did you mean 'boss'?): head "
            "names the id of someone under people:"
        ),
        (
            "orgs/bad_departments.yaml:6:10: duplicate department id 'clinic': department 1 in "
            "departments: has it too; give each department its own id"
        ),
        "orgs/bad_departments.yaml:8:83: unknown department 'clinc' (did you mean 'clinic'?)",
        "orgs/bad_departments.yaml:9:100: language 'fr' has no templates: use ja, zh, en",
    ],
}

MANY_PROBLEMS = [
    "4:11: timezone: unknown time zone 'Europe/Tokio' (use an IANA name such as Asia/Tokyo)",
    "7:1: unknown key 'descripton' (did you mean 'description'?)",
    "11:15: duration: unknown period unit 'fortnight' in '1 fortnight' (use years, months, weeks, days)",
    (
        "17:9: unknown role 'managr' in orgs/small.yaml (did you mean 'manager'?); its roles are auditor,"
        " manager, staff"
    ),
    (
        "26:13: within: unknown duration unit 'fortnights' in '2 fortnights' (use s, m, h, d, w, working"
        " days, working hours, or 秒, 分, 時間, 日, 営業日, 小时, 天, 工作日)"
    ),
    "32:13: a deadline of '0h' can never be met: give a duration longer than 0",
    "34:18: unknown severity 'urgnet' (did you mean 'urgent'?); known: normal, urgent",
]


@pytest.fixture(autouse=True)
def _inside_broken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BROKEN)


def _render(problem: Problem, policy: str) -> str:
    where = "" if problem.file == policy else f"{problem.file}:"
    return f"{where}{problem.line}:{problem.col}: {problem.message}"


def _problems(name: str, templates: Path | None = None) -> list[str]:
    with pytest.raises(PolicyInvalid) as caught:
        load_policy(Path(name), templates=templates)
    problems = caught.value.problems
    assert problems == sorted(set(problems)), "problems must be sorted and reported once"
    assert all(p.line >= 1 and p.col >= 1 for p in problems)
    return [_render(p, name) for p in problems]


@pytest.mark.parametrize(("name", "expected"), CASES.items(), ids=list(CASES))
def test_broken_policy_reports_exactly_these_problems(name: str, expected: list[str]) -> None:
    assert _problems(name) == expected


def test_every_fixture_has_a_case() -> None:
    checked_elsewhere = {"minimal.yaml", "many_problems.yaml", "templates_option.yaml"}
    assert {p.name for p in BROKEN.glob("*.yaml")} == set(CASES) | checked_elsewhere
    assert len(CASES) >= 30


def test_the_minimal_policy_the_fixtures_start_from_is_valid() -> None:
    loaded = load_policy(Path("minimal.yaml"))
    assert isinstance(loaded, LoadedPolicy)
    assert [s.id for s in loaded.spec.steps] == ["report"]


def test_several_independent_problems_are_reported_at_once() -> None:
    # Shape (time zone, unknown key, penalty period, step deadline) and meaning (role, zero deadline,
    # condition value) in one file. The step and penalty with broken values are left out of the later
    # checks without being reported again as unknown (done(assess), penalty: bonus_cut).
    assert _problems("many_problems.yaml") == MANY_PROBLEMS


def test_template_folder_given_by_the_caller_is_checked() -> None:
    assert load_policy(Path("templates_option.yaml")).spec.id == "templates-option"
    assert _problems("templates_option.yaml", templates=Path("templates")) == [
        "19:21: template 'missed_report' has no ja version: expected templates/ja/missed_report.j2",
        (
            "20:9: step 'respond' has no en template: expected templates/en/respond.j2 (or set template: to"
            " an existing one)"
        ),
        (
            "20:9: step 'respond' has no ja template: expected templates/ja/respond.j2 (or set template: to"
            " an existing one)"
        ),
    ]


def test_broken_org_directory_is_reported_on_its_own() -> None:
    with pytest.raises(PolicyInvalid) as caught:
        load_org(Path("orgs/supervisor_loop.yaml"))
    assert [str(p) for p in caught.value.problems] == [
        (
            "orgs/supervisor_loop.yaml:5:83: supervisors form a loop: 'boss' → 'deputy' → 'boss'; someone"
            " in it must report to someone outside it, or to nobody"
        ),
        (
            "orgs/supervisor_loop.yaml:8:84: 'clerk' is their own supervisor: name someone else, or leave"
            " it out"
        ),
    ]
    assert isinstance(load_org(Path("orgs/small.yaml")), Org)


def _billion_laughs() -> str:
    """Each line repeats the previous one ten times: line n+1 stands for 10**n values."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 10)}]" for n in range(1, 12)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: " + "[" * 100_000 + "]" * 100_000, "1:68: the document is nested deeper than 64 levels"),
        ("a: " + "{b: " * 100_000 + "}" * 100_000, "1:260: the document is nested deeper than 64 levels"),
        (
            "".join(f"{' ' * 2 * i}k{i}:\n" for i in range(1000)),
            "65:129: the document is nested deeper than 64 levels",
        ),
        (_billion_laughs(), "6:10: alias *l4 makes the document expand to more than 200000 values"),
    ],
    ids=["flow-sequences", "flow-mappings", "block-mappings", "billion-laughs"],
)
def test_pathological_documents_fail_fast_with_a_located_problem(text: str, expected: str) -> None:
    started = time.perf_counter()
    with pytest.raises(PolicyInvalid) as caught:
        parse_located(text, "huge.yaml")
    assert time.perf_counter() - started < 2
    [problem] = caught.value.problems
    assert str(problem).startswith(f"huge.yaml:{expected}")


def test_cli_prints_every_problem_and_exits_1() -> None:
    # The real console script, as an administrator runs it, on two broken files at once.
    result = subprocess.run(
        [str(CLI), "policy", "check", "many_problems.yaml", "step_cycle.yaml"],
        capture_output=True,
        text=True,
        check=False,
        cwd=BROKEN,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1, result.stderr
    expected = [f"many_problems.yaml:{p}" for p in MANY_PROBLEMS]
    expected += [f"step_cycle.yaml:{p}" for p in CASES["step_cycle.yaml"]]
    assert result.stdout.splitlines() == expected


def test_cli_exits_2_for_a_missing_file() -> None:
    result = subprocess.run(
        [str(CLI), "policy", "check", "minimal.yaml", "no_such_policy.yaml"],
        capture_output=True,
        text=True,
        check=False,
        cwd=BROKEN,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "no_such_policy.yaml" in result.stderr
    assert result.stdout == ""


def test_cli_accepts_the_shipped_policy() -> None:
    shipped = REPO / "policies" / "keieikai_clinic.yaml"
    result = CliRunner().invoke(app, ["policy", "check", str(shipped)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"{shipped}: ok: policy keieikai-clinic ")


def test_cli_checks_templates_when_asked() -> None:
    result = CliRunner().invoke(app, ["policy", "check", "templates_option.yaml", "--templates", "templates"])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        "templates_option.yaml:19:21: template 'missed_report' has no ja version: expected"
        " templates/ja/missed_report.j2"
    )
