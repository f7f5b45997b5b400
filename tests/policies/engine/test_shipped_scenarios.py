"""The scenarios shipped under tests/scenarios/, replayed against the shipped policies.

Each test names the rules (R1-R16 of the product brief) it checks. Every expected value was worked
out by hand from the rule and the calendar, as shown in the comments; none was copied from the
engine's output. Times are aware datetimes in the policy's own zone.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest

from models.decisions import NotificationKind, ObligationStatus
from policies.api import prepare, prepare_scenario
from policies.engine.simulate import Simulation, simulate

ROOT = Path(__file__).resolve().parents[3]
SCENARIOS = ROOT / "tests" / "scenarios"
POLICIES = ROOT / "policies"

JST = ZoneInfo("Asia/Tokyo")
CST = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")

MET = ObligationStatus.MET
LATE = ObligationStatus.LATE
OVERDUE = ObligationStatus.OVERDUE
OPEN = ObligationStatus.OPEN
CANCELLED = ObligationStatus.CANCELLED
HANDED_OVER = ObligationStatus.HANDED_OVER

BONUS = "bonus_half_cut"  # 一年間賞与を半額カット (R4)
WARNING = "written_warning"  # the walkthrough's penalty

ViolationRow = tuple[str, str, str, datetime, str | None]
ObligationRow = tuple[str, str, int, str, ObligationStatus, datetime]
Sent = tuple[datetime, tuple[str, ...]]


def run(relative: str) -> Simulation:
    scenario, ready = prepare_scenario(SCENARIOS / relative)
    return simulate(ready.policy, ready.org, scenario.events, scenario.until)


def utc(moment: datetime) -> datetime:
    assert moment.tzinfo is not None, "expected times must be aware"
    return moment.astimezone(UTC)


def violations(sim: Simulation) -> list[ViolationRow]:
    """(complaint, step, actor, due, penalty) of every violation the simulation recorded."""
    for detected in sim.violations:  # a violation is detected exactly at its due time
        assert detected.detected_at == detected.violation.due_at
    return sorted(
        (v.complaint, v.step, v.actor, utc(v.due_at), v.penalty)
        for v in (d.violation for d in sim.violations)
    )


def expect(rows: Iterable[ViolationRow]) -> list[ViolationRow]:
    return sorted((c, s, a, utc(due), p) for c, s, a, due, p in rows)


def obligations(sim: Simulation) -> set[ObligationRow]:
    """(complaint, step, occurrence, actor, status, due) of every obligation at ``until``."""
    return {(o.complaint, o.step, o.occurrence, o.actor, o.status, utc(o.due_at)) for o in sim.obligations}


def table(rows: Iterable[ObligationRow]) -> set[ObligationRow]:
    return {(c, s, n, a, status, utc(due)) for c, s, n, a, status, due in rows}


def sent(sim: Simulation, complaint: str, step: str | None, kind: NotificationKind) -> list[Sent]:
    return sorted(
        (utc(n.at), n.to)
        for n in sim.notifications
        if n.complaint == complaint and n.step == step and n.kind is kind
    )


def at(*moments: datetime) -> list[datetime]:
    return [utc(m) for m in moments]


# ─── The shipped policies themselves ───────────────────────────────────────────────────────────


@pytest.mark.parametrize("name", ["keieikai_clinic", "cn_hospital", "nursing_care", "walkthrough_en"])
def test_shipped_policy_passes_every_check(name: str) -> None:
    """Every shipped policy loads, passes the reference checks and compiles against its org."""
    ready = prepare(POLICIES / f"{name}.yaml")
    assert ready.policy.steps


def test_cn_categories_are_the_guides_five() -> None:
    """R8: the five categories of 3.2, with English ids and Chinese names."""
    ready = prepare(POLICIES / "cn_hospital.yaml")
    assert dict(ready.policy.categories) == {
        "medical_care": "医疗服务类",
        "attitude": "服务态度类",
        "facilities": "环境设施类",
        "fees": "费用类",
        "communication": "沟通不畅类",
    }


def test_every_shipped_scenario_is_exercised_here() -> None:
    """A scenario added without a test would silently assert nothing."""
    shipped = {str(p.relative_to(SCENARIOS)) for p in SCENARIOS.rglob("*.yaml")}
    assert shipped == COVERED


COVERED = {
    "keieikai/nobody_reports.yaml",
    "keieikai/everyone_reports.yaml",
    "keieikai/supervisor_to_executive.yaml",
    "keieikai/dual_path_supervisor_forgets.yaml",
    "keieikai/dual_path_first_hearer_forgets.yaml",
    "keieikai/apology_reminders.yaml",
    "keieikai/incident_report_golden_week.yaml",
    "keieikai/heard_after_receipt.yaml",
    "cn_hospital/adjusted_saturday.yaml",
    "cn_hospital/phone_30_seconds.yaml",
    "cn_hospital/urgent.yaml",
    "cn_hospital/complex_progress.yaml",
    "cn_hospital/reopen.yaml",
    "cn_hospital/late_progress_update.yaml",
    "cn_hospital/resolved_after_missed_updates.yaml",
    "nursing_care/on_time.yaml",
    "nursing_care/late.yaml",
    "nursing_care/owner_fallback.yaml",
    "nursing_care/no_ward_missed.yaml",
    "walkthrough_en/dst_handover.yaml",
    "walkthrough_en/missed_reports.yaml",
    "walkthrough_en/urgent_condition.yaml",
    "walkthrough_en/late_handover.yaml",
}


# ─── Japanese clinic (seed 001): R1-R6 ─────────────────────────────────────────────────────────


def test_jp_nobody_reports() -> None:
    """R1, R2, R3, R4: nobody reports. The first hearer (tanaka) misses his two reports and the
    supervisor (sato) misses his consultation, all three with the bonus cut; nobody else is
    penalised. R5: sato, the default handler (supervisor of the first hearer), also misses the
    apology call, which carries no penalty."""
    sim = run("keieikai/nobody_reports.yaml")
    # heard 10:00 → report to supervisor within 30分 (10:30), to the top within 1時間 (11:00);
    # occurred 10:00 → apology call within 2時間 (12:00).
    assert violations(sim) == expect(
        [
            ("C-1", "report_to_supervisor", "tanaka", datetime(2026, 4, 1, 10, 30, tzinfo=JST), BONUS),
            ("C-1", "first_hearer_notifies_top", "tanaka", datetime(2026, 4, 1, 11, tzinfo=JST), BONUS),
            ("C-1", "supervisor_consults_top", "sato", datetime(2026, 4, 1, 11, tzinfo=JST), BONUS),
            ("C-1", "apology_call", "sato", datetime(2026, 4, 1, 12, tzinfo=JST), None),
        ]
    )
    penalised = {v.violation.actor for v in sim.violations if v.violation.penalty}
    assert penalised == {"tanaka", "sato"}  # 罰則の対象は、報告責任者と上司の二人
    # The first hearer's silence is escalated to the supervisor, the two top-level misses to both
    # the president and the executive in charge; the apology call to sato's boss, then the top.
    assert sent(sim, "C-1", "report_to_supervisor", NotificationKind.ESCALATION) == [
        (utc(datetime(2026, 4, 1, 10, 30, tzinfo=JST)), ("sato",))
    ]
    assert sent(sim, "C-1", "supervisor_consults_top", NotificationKind.ESCALATION) == [
        (utc(datetime(2026, 4, 1, 11, tzinfo=JST)), ("yamamoto", "ito"))
    ]
    assert sent(sim, "C-1", "apology_call", NotificationKind.ESCALATION) == [
        (utc(datetime(2026, 4, 1, 12, tzinfo=JST)), ("ito",)),
        (utc(datetime(2026, 4, 1, 12, 30, tzinfo=JST)), ("yamamoto", "ito")),
    ]


def test_jp_everyone_reports_on_time_means_no_violation() -> None:
    """R4: the complaint itself is never a violation: when everyone reports (R1-R3), calls (R5) and
    files the incident report (R6) on time, nothing is recorded against anyone."""
    sim = run("keieikai/everyone_reports.yaml")
    assert violations(sim) == []
    # Incident report: resolved Thu 04-02 15:00; 3営業日 = 27 working hours of 09:00-18:00:
    # 04-02 3h, Fri 04-03 9h, Mon 04-06 9h, Tue 04-07 6h → 04-07 15:00.
    assert obligations(sim) == table(
        [
            ("C-1", "report_to_supervisor", 1, "tanaka", MET, datetime(2026, 4, 1, 10, 30, tzinfo=JST)),
            ("C-1", "first_hearer_notifies_top", 1, "tanaka", MET, datetime(2026, 4, 1, 11, tzinfo=JST)),
            ("C-1", "supervisor_consults_top", 1, "sato", MET, datetime(2026, 4, 1, 11, tzinfo=JST)),
            ("C-1", "apology_call", 1, "sato", MET, datetime(2026, 4, 1, 12, tzinfo=JST)),
            ("C-1", "incident_report", 1, "sato", MET, datetime(2026, 4, 7, 15, tzinfo=JST)),
        ]
    )


def test_jp_supervisor_may_consult_the_executive_in_charge() -> None:
    """R2: 社長・担当役員 — reporting to the executive in charge (ito) instead of the president
    satisfies the supervisor's duty (any-of target). Consulting a fellow manager (kobayashi) does
    not: sato is then penalised."""
    sim = run("keieikai/supervisor_to_executive.yaml")
    assert violations(sim) == expect(
        [("C-2", "supervisor_consults_top", "sato", datetime(2026, 4, 1, 14, tzinfo=JST), BONUS)]
    )
    consult = {(o.complaint, o.status): o for o in sim.obligations if o.step == "supervisor_consults_top"}
    assert consult["C-1", MET].targets == ("yamamoto", "ito")
    assert consult["C-1", MET].done_at == utc(datetime(2026, 4, 1, 10, 45, tzinfo=JST))
    assert ("C-2", OVERDUE) in consult


def test_jp_dual_path_only_the_first_hearer_reports_to_the_top() -> None:
    """R3: the first hearer's one-line mail reaches the president although the supervisor forgot
    to consult; only the supervisor is penalised, the first hearer escapes."""
    sim = run("keieikai/dual_path_supervisor_forgets.yaml")
    assert violations(sim) == expect(
        [("C-1", "supervisor_consults_top", "sato", datetime(2026, 4, 1, 11, tzinfo=JST), BONUS)]
    )


def test_jp_dual_path_only_the_supervisor_reports_to_the_top() -> None:
    """R3: the supervisor consults the president but the first hearer forgets the one-line mail;
    only the first hearer is penalised, the supervisor escapes."""
    sim = run("keieikai/dual_path_first_hearer_forgets.yaml")
    assert violations(sim) == expect(
        [("C-1", "first_hearer_notifies_top", "tanaka", datetime(2026, 4, 1, 11, tzinfo=JST), BONUS)]
    )


def test_jp_apology_call_reminders_repeat_until_the_call() -> None:
    """R5: 何度も何度も連絡してください — the handler is reminded every 15 minutes until the call;
    the 2-hour limit counts from occurrence (発生から2時間), not from receipt; missing it carries no
    penalty (R4) but escalates to the handler's supervisor and then to the top."""
    sim = run("keieikai/apology_reminders.yaml")
    # C-1: request at 10:00, reminders 10:15, 10:30, 10:45; called at 10:50 → no more reminders.
    assert sent(sim, "C-1", "apology_call", NotificationKind.REQUEST) == [
        (utc(datetime(2026, 4, 1, 10, tzinfo=JST)), ("sato",))
    ]
    assert sent(sim, "C-1", "apology_call", NotificationKind.REMINDER) == [
        (utc(datetime(2026, 4, 1, 10, 15, tzinfo=JST)), ("sato",)),
        (utc(datetime(2026, 4, 1, 10, 30, tzinfo=JST)), ("sato",)),
        (utc(datetime(2026, 4, 1, 10, 45, tzinfo=JST)), ("sato",)),
    ]
    # C-2 occurred 13:30, heard 14:00: apology due 15:30; reports due 14:30 / 15:00 (all made).
    assert violations(sim) == expect(
        [("C-2", "apology_call", "sato", datetime(2026, 4, 1, 15, 30, tzinfo=JST), None)]
    )
    assert sent(sim, "C-2", "apology_call", NotificationKind.ESCALATION) == [
        (utc(datetime(2026, 4, 1, 15, 30, tzinfo=JST)), ("ito",)),
        (utc(datetime(2026, 4, 1, 16, tzinfo=JST)), ("yamamoto", "ito")),
    ]


def test_jp_incident_report_counts_working_days_across_golden_week() -> None:
    """R6: the incident report is due 3 working days after resolution, and Golden Week does not
    count: resolved Fri 2026-05-01 15:00 → 27 working hours: 05-01 3h, 05-02..05-06 off (weekend,
    憲法記念日, みどりの日, こどもの日, 振替休日), 05-07 9h, 05-08 9h, weekend, Mon 05-11 6h → 15:00."""
    sim = run("keieikai/incident_report_golden_week.yaml")
    calendar = sim.policy.calendar
    assert calendar.is_working_day(date(2026, 5, 1))
    assert not any(calendar.is_working_day(date(2026, 5, d)) for d in range(2, 7))
    assert calendar.is_working_day(date(2026, 5, 7))
    due = datetime(2026, 5, 11, 15, tzinfo=JST)
    assert violations(sim) == expect([("C-1", "incident_report", "sato", due, None)])
    assert ("C-2", "incident_report", 1, "kobayashi", MET, utc(due)) in obligations(sim)
    # Reminders every 1営業日 (9 working hours) from 05-01 15:00: 05-07 15:00, 05-08 15:00.
    assert sent(sim, "C-1", "incident_report", NotificationKind.REMINDER) == [
        (utc(datetime(2026, 5, 7, 15, tzinfo=JST)), ("sato",)),
        (utc(datetime(2026, 5, 8, 15, tzinfo=JST)), ("sato",)),
    ]


def test_jp_heard_after_receipt_is_enforced_from_the_heard_time() -> None:
    """R1, R4, R5: a first hearer whose clock runs 3 minutes ahead types heard 10:03 for a
    complaint the server received at 10:00. The deadlines count from 10:03, and nobody acting must
    still bring the requests, the reminders, the violations and the escalations."""
    sim = run("keieikai/heard_after_receipt.yaml")

    def jst(hour: int, minute: int) -> datetime:
        return datetime(2026, 4, 1, hour, minute, tzinfo=JST)

    # Heard 10:03: report within 30分 (10:33), the two top-level reports within 1時間 (11:03);
    # occurred defaults to heard: the apology call within 2時間 (12:03), no penalty.
    assert violations(sim) == expect(
        [
            ("C-1", "report_to_supervisor", "tanaka", jst(10, 33), BONUS),
            ("C-1", "first_hearer_notifies_top", "tanaka", jst(11, 3), BONUS),
            ("C-1", "supervisor_consults_top", "sato", jst(11, 3), BONUS),
            ("C-1", "apology_call", "sato", jst(12, 3), None),
        ]
    )
    requested = [(step, sent(sim, "C-1", step, NotificationKind.REQUEST)) for step in STEPS_JP]
    assert requested == [
        ("report_to_supervisor", [(utc(jst(10, 3)), ("tanaka",))]),
        ("first_hearer_notifies_top", [(utc(jst(10, 3)), ("tanaka",))]),
        ("supervisor_consults_top", [(utc(jst(10, 3)), ("sato",))]),
        ("apology_call", [(utc(jst(10, 3)), ("sato",))]),
    ]
    # Every 10分 before 10:33; every 20分 before 11:03; every 15分 before 12:03.
    reminded = {step: [t for t, _ in sent(sim, "C-1", step, NotificationKind.REMINDER)] for step in STEPS_JP}
    assert reminded == {
        "report_to_supervisor": at(jst(10, 13), jst(10, 23)),
        "first_hearer_notifies_top": at(jst(10, 23), jst(10, 43)),
        "supervisor_consults_top": at(jst(10, 23), jst(10, 43)),
        "apology_call": at(*(jst(10 + m // 60, m % 60) for m in range(18, 120, 15))),
    }
    assert sent(sim, "C-1", "report_to_supervisor", NotificationKind.ESCALATION) == [
        (utc(jst(10, 33)), ("sato",))
    ]
    for step in ("first_hearer_notifies_top", "supervisor_consults_top"):
        assert sent(sim, "C-1", step, NotificationKind.ESCALATION) == [(utc(jst(11, 3)), ("yamamoto", "ito"))]
    # The handler's (sato's) supervisor first, then the top 30分 later.
    assert sent(sim, "C-1", "apology_call", NotificationKind.ESCALATION) == [
        (utc(jst(12, 3)), ("ito",)),
        (utc(jst(12, 33)), ("yamamoto", "ito")),
    ]


STEPS_JP = ["report_to_supervisor", "first_hearer_notifies_top", "supervisor_consults_top", "apology_call"]


# ─── Chinese hospital (seed 003): R7-R12 ───────────────────────────────────────────────────────


def test_cn_working_day_deadline_counts_the_adjusted_working_saturday() -> None:
    """R10: 一个工作日内开始处理, 3个工作日内给出明确回应. 2026-02-14 (Saturday) is a working day in
    China; 02-15..02-23 are the Spring Festival holidays. Working hours 08:30-17:30 (9h a day).
    R7: the web complaint with an email address gets an automatic receipt."""
    china = holidays.country_holidays("CN", years=2026)  # holidays.China
    assert china.is_working_day(date(2026, 2, 14))
    assert not any(china.is_working_day(date(2026, 2, d)) for d in range(15, 24))
    assert china.is_working_day(date(2026, 2, 24))
    sim = run("cn_hospital/adjusted_saturday.yaml")
    # C-1 received Fri 02-13 15:00: start within 9h = 2.5h on 02-13 + 6.5h on Sat 02-14 → 15:00.
    # C-2 received 02-13 17:00: response within 27h = 0.5 + 9 (Sat) + 9 (02-24) + 8.5 → 02-25 17:00.
    assert violations(sim) == expect(
        [
            ("C-1", "general_start", "zhaoli", datetime(2026, 2, 14, 15, tzinfo=CST), None),
            ("C-2", "general_response", "zhaoli", datetime(2026, 2, 25, 17, tzinfo=CST), None),
        ]
    )
    assert obligations(sim) == table(
        [
            ("C-1", "online_acknowledge", 1, "role:cs_desk", MET, datetime(2026, 2, 13, 16, tzinfo=CST)),
            ("C-2", "online_acknowledge", 1, "role:cs_desk", MET, datetime(2026, 2, 13, 18, tzinfo=CST)),
            ("C-1", "general_start", 1, "zhaoli", OVERDUE, datetime(2026, 2, 14, 15, tzinfo=CST)),
            ("C-2", "general_start", 1, "zhaoli", MET, datetime(2026, 2, 14, 17, tzinfo=CST)),
            # C-1: 2.5 + 9 (Sat) + 9 (02-24) + 6.5 → 02-25 15:00, answered on 02-24.
            ("C-1", "general_response", 1, "zhaoli", MET, datetime(2026, 2, 25, 15, tzinfo=CST)),
            ("C-2", "general_response", 1, "zhaoli", OVERDUE, datetime(2026, 2, 25, 17, tzinfo=CST)),
        ]
    )
    # Reminders every working day (9 working hours) from 02-13 17:00: Sat 02-14 17:00, 02-24 17:00.
    assert sent(sim, "C-2", "general_response", NotificationKind.REMINDER) == [
        (utc(datetime(2026, 2, 14, 17, tzinfo=CST)), ("zhaoli",)),
        (utc(datetime(2026, 2, 24, 17, tzinfo=CST)), ("zhaoli",)),
    ]
    # Two-level escalation: the handler's supervisor at once, the vice president a working day later.
    assert sent(sim, "C-2", "general_response", NotificationKind.ESCALATION) == [
        (utc(datetime(2026, 2, 25, 17, tzinfo=CST)), ("wangmin",)),
        (utc(datetime(2026, 2, 26, 17, tzinfo=CST)), ("liqiang",)),
    ]
    assert sent(sim, "C-1", None, NotificationKind.RECEIPT) == [
        (utc(datetime(2026, 2, 13, 15, tzinfo=CST)), ("complainant",))
    ]
    assert sent(sim, "C-2", None, NotificationKind.RECEIPT) == []  # no email address left


def test_cn_phone_complaints_answered_within_30_seconds() -> None:
    """R10: 电话投诉，客服人员应在30秒内做出回应. Any desk agent may answer (a group obligation);
    45 seconds is late: the violation stands and the response time is recorded (R12). Phone
    complaints are not subject to the 1-hour online acknowledgement."""
    sim = run("cn_hospital/phone_30_seconds.yaml")
    assert violations(sim) == expect(
        [("C-2", "phone_answer", "role:cs_desk", datetime(2026, 3, 2, 9, 5, 30, tzinfo=CST), None)]
    )
    answers = {o.complaint: o for o in sim.obligations if o.step == "phone_answer"}
    assert answers["C-1"].status is MET
    assert answers["C-1"].due_at == utc(datetime(2026, 3, 2, 9, 0, 30, tzinfo=CST))
    assert answers["C-2"].status is LATE
    assert answers["C-2"].done_at == utc(datetime(2026, 3, 2, 9, 5, 45, tzinfo=CST))
    assert answers["C-2"].actors == ("chenjing", "liuyang", "zhaoli")
    assert not [o for o in sim.obligations if o.step == "online_acknowledge"]
    assert sent(sim, "C-2", "phone_answer", NotificationKind.ESCALATION) == [
        (utc(datetime(2026, 3, 2, 9, 5, 30, tzinfo=CST)), ("wangmin",))
    ]
    # The general limits still run: start within one working day (9h) → next day, same time.
    assert ("C-2", "general_start", 1, "liuyang", OPEN, utc(datetime(2026, 3, 3, 9, 5, tzinfo=CST))) in (
        obligations(sim)
    )


def test_cn_urgent_complaints_go_to_the_department_at_once() -> None:
    """R9, R10: urgent complaints (patient safety, medical quality) are handed to the responsible
    department head at once (立即 = 10 minutes by house rule) and corrected within 1 hour. A
    complaint re-classified urgent at triage starts the urgent clocks then and drops the general
    ones."""
    sim = run("cn_hospital/urgent.yaml")
    assert violations(sim) == expect(
        [
            # C-2 became urgent at 10:30: transfer due 10:40, nobody transferred it.
            ("C-2", "urgent_transfer", "role:cs_desk", datetime(2026, 3, 3, 10, 40, tzinfo=CST), None),
            # C-1 urgent from 10:00: corrective action due 11:00, done 11:20.
            ("C-1", "urgent_corrective_action", "sunhao", datetime(2026, 3, 3, 11, tzinfo=CST), None),
        ]
    )
    assert obligations(sim) == table(
        [
            ("C-1", "phone_answer", 1, "role:cs_desk", MET, datetime(2026, 3, 3, 10, 0, 30, tzinfo=CST)),
            ("C-1", "urgent_transfer", 1, "role:cs_desk", MET, datetime(2026, 3, 3, 10, 10, tzinfo=CST)),
            ("C-1", "urgent_corrective_action", 1, "sunhao", LATE, datetime(2026, 3, 3, 11, tzinfo=CST)),
            ("C-2", "online_acknowledge", 1, "role:cs_desk", MET, datetime(2026, 3, 3, 11, tzinfo=CST)),
            ("C-2", "urgent_transfer", 1, "role:cs_desk", OVERDUE, datetime(2026, 3, 3, 10, 40, tzinfo=CST)),
            ("C-2", "urgent_corrective_action", 1, "zhoumei", MET, datetime(2026, 3, 3, 11, 30, tzinfo=CST)),
            ("C-2", "general_start", 1, "zhaoli", CANCELLED, datetime(2026, 3, 4, 10, tzinfo=CST)),
            ("C-2", "general_response", 1, "zhaoli", CANCELLED, datetime(2026, 3, 6, 10, tzinfo=CST)),
        ]
    )
    transfer = next(o for o in sim.obligations if o.complaint == "C-2" and o.step == "urgent_transfer")
    assert transfer.started_at == utc(datetime(2026, 3, 3, 10, 30, tzinfo=CST))
    assert transfer.targets == ("zhoumei",)  # head of the complaint's department (内科)
    # Corrective action done at 11:20: the vice president was told at 11:00; the president's level
    # (30 minutes later, 11:30) never fires.
    assert sent(sim, "C-1", "urgent_corrective_action", NotificationKind.ESCALATION) == [
        (utc(datetime(2026, 3, 3, 11, tzinfo=CST)), ("liqiang",))
    ]


def test_cn_complex_complaints_get_progress_updates_every_seven_working_days() -> None:
    """R9, R10, R16: a complex complaint is passed to the department head (an explicit handover:
    the desk's part becomes handed_over, the head owes the same deadlines) and the complainant is
    told of progress every 7 working days until resolution. R11: callback within 24 hours and
    satisfaction survey within a week of resolution."""
    sim = run("cn_hospital/complex_progress.yaml")
    # #1 from Mon 03-02 10:00 + 7 working days → Wed 03-11 10:00 (done 03-10 16:00);
    # #2 from 03-10 16:00 → Thu 03-19 16:00 (missed); #3 from 03-19 16:00 → Mon 03-30 16:00,
    # cancelled by the resolution on 03-25. Callback: 03-25 10:00 + 24h; survey: + 1 week.
    assert violations(sim) == expect(
        [("C-1", "complex_progress", "sunhao", datetime(2026, 3, 19, 16, tzinfo=CST), None)]
    )
    # (#3, cancelled, is left to the engine-bug test below: the engine drops it.)
    present = {row for row in obligations(sim) if row[1:3] != ("complex_progress", 3)}
    assert present == table(
        [
            ("C-1", "online_acknowledge", 1, "role:cs_desk", MET, datetime(2026, 3, 2, 11, tzinfo=CST)),
            ("C-1", "general_start", 1, "zhaoli", HANDED_OVER, datetime(2026, 3, 3, 10, tzinfo=CST)),
            ("C-1", "general_start", 1, "sunhao", MET, datetime(2026, 3, 3, 10, tzinfo=CST)),
            ("C-1", "complex_progress", 1, "zhaoli", HANDED_OVER, datetime(2026, 3, 11, 10, tzinfo=CST)),
            ("C-1", "complex_progress", 1, "sunhao", MET, datetime(2026, 3, 11, 10, tzinfo=CST)),
            ("C-1", "complex_progress", 2, "sunhao", OVERDUE, datetime(2026, 3, 19, 16, tzinfo=CST)),
            ("C-1", "callback", 1, "role:cs_desk", MET, datetime(2026, 3, 26, 10, tzinfo=CST)),
            ("C-1", "satisfaction_survey", 1, "role:cs_desk", MET, datetime(2026, 4, 1, 10, tzinfo=CST)),
        ]
    )
    progress = {(o.occurrence, o.actor): o for o in sim.obligations if o.step == "complex_progress"}
    assert progress[2, "sunhao"].started_at == utc(datetime(2026, 3, 10, 16, tzinfo=CST))
    assert progress[1, "zhaoli"].ended_at == utc(datetime(2026, 3, 2, 10, 30, tzinfo=CST))


def test_cn_reopened_complaint_is_reassessed_and_followed_up_again() -> None:
    """R10: 若客户对处理结果不满意，应重新评估 — reopening starts a re-assessment (1 working day by
    house rule) and cancels the pending survey; R11: the second resolution restarts the 24-hour
    callback and the one-week survey; the missed second callback is the desk's violation."""
    sim = run("cn_hospital/reopen.yaml")
    assert violations(sim) == expect(
        [("C-1", "callback", "role:cs_desk", datetime(2026, 3, 13, 10, tzinfo=CST), None)]
    )
    # Mon 03-09 09:00: start by 03-10 09:00 (8.5h + 0.5h), respond by 03-12 09:00 (8.5+9+9+0.5h).
    # Reopened 03-10 16:05: 1h25m that day + 7h35m on 03-11 → 03-11 16:05.
    assert obligations(sim) == table(
        [
            ("C-1", "online_acknowledge", 1, "role:cs_desk", MET, datetime(2026, 3, 9, 10, tzinfo=CST)),
            ("C-1", "general_start", 1, "zhaoli", MET, datetime(2026, 3, 10, 9, tzinfo=CST)),
            ("C-1", "general_response", 1, "zhaoli", MET, datetime(2026, 3, 12, 9, tzinfo=CST)),
            ("C-1", "callback", 1, "role:cs_desk", MET, datetime(2026, 3, 11, 11, tzinfo=CST)),
            (
                "C-1",
                "satisfaction_survey",
                1,
                "role:cs_desk",
                CANCELLED,
                datetime(2026, 3, 17, 11, tzinfo=CST),
            ),
            ("C-1", "reopen_reassess", 1, "zhaoli", MET, datetime(2026, 3, 11, 16, 5, tzinfo=CST)),
            ("C-1", "callback", 2, "role:cs_desk", OVERDUE, datetime(2026, 3, 13, 10, tzinfo=CST)),
            ("C-1", "satisfaction_survey", 2, "role:cs_desk", MET, datetime(2026, 3, 19, 10, tzinfo=CST)),
        ]
    )


RESOLVED_LATE = "cn_hospital/resolved_after_missed_updates.yaml"


def test_cn_each_missed_progress_period_is_detected_before_resolution() -> None:
    """R10: no progress update at all: each 7-working-day period is a violation when it falls due —
    03-11 10:00, 03-20 10:00 and 03-31 10:00 (7 working days from each due time)."""
    sim = run(RESOLVED_LATE)
    assert violations(sim) == expect(
        [
            ("C-1", "complex_progress", "zhaoli", datetime(2026, 3, 11, 10, tzinfo=CST), None),
            ("C-1", "complex_progress", "zhaoli", datetime(2026, 3, 20, 10, tzinfo=CST), None),
            ("C-1", "complex_progress", "zhaoli", datetime(2026, 3, 31, 10, tzinfo=CST), None),
        ]
    )


def test_cn_resolution_keeps_the_progress_updates_missed_before_it() -> None:
    """R10, R12: resolving a complex complaint ends the progress updates from then on; it does not
    erase the periods already missed. #4 ran from 03-31 10:00 (due 04-10 10:00: 7 working days
    with 04-04..04-06 Qingming off) and is cancelled by the resolution on 04-02 10:00."""
    sim = run(RESOLVED_LATE)
    assert sorted((v.step, v.occurrence, utc(v.due_at)) for v in sim.final.violations) == [
        ("complex_progress", 1, utc(datetime(2026, 3, 11, 10, tzinfo=CST))),
        ("complex_progress", 2, utc(datetime(2026, 3, 20, 10, tzinfo=CST))),
        ("complex_progress", 3, utc(datetime(2026, 3, 31, 10, tzinfo=CST))),
    ]
    assert {row for row in obligations(sim) if row[1] == "complex_progress"} == table(
        [
            ("C-1", "complex_progress", 1, "zhaoli", OVERDUE, datetime(2026, 3, 11, 10, tzinfo=CST)),
            ("C-1", "complex_progress", 2, "zhaoli", OVERDUE, datetime(2026, 3, 20, 10, tzinfo=CST)),
            ("C-1", "complex_progress", 3, "zhaoli", OVERDUE, datetime(2026, 3, 31, 10, tzinfo=CST)),
            ("C-1", "complex_progress", 4, "zhaoli", CANCELLED, datetime(2026, 4, 10, 10, tzinfo=CST)),
        ]
    )
    # The same defect in complex_progress.yaml: #3 (from the missed due time 03-19 16:00, due
    # Mon 03-30 16:00) is cancelled by the resolution on 03-25 and must still be on record.
    complex_run = run("cn_hospital/complex_progress.yaml")
    assert (
        "C-1",
        "complex_progress",
        3,
        "sunhao",
        CANCELLED,
        utc(datetime(2026, 3, 30, 16, tzinfo=CST)),
    ) in obligations(complex_run)


LATE_PROGRESS = "cn_hospital/late_progress_update.yaml"


def test_cn_missed_progress_updates_are_each_a_violation() -> None:
    """R10: each 7-working-day period without a progress update is its own violation: 03-11 10:00
    (from receipt on Mon 03-02 10:00) and 03-20 10:00 (from the first missed due time)."""
    sim = run(LATE_PROGRESS)
    assert violations(sim) == expect(
        [
            ("C-1", "complex_progress", "zhaoli", datetime(2026, 3, 11, 10, tzinfo=CST), None),
            ("C-1", "complex_progress", "zhaoli", datetime(2026, 3, 20, 10, tzinfo=CST), None),
        ]
    )


def test_cn_late_progress_update_does_not_rewrite_recorded_violations() -> None:
    """R10, R12: the update made on 03-23 10:00 belongs to the period running from 03-20 10:00
    (#3, due 03-31 10:00); #1 (due 03-11) and #2 (due 03-20) stay overdue, as the audit log says,
    and #4 runs from 03-23 10:00 to 04-01 10:00."""
    sim = run(LATE_PROGRESS)
    final = {(o.occurrence, o.status, utc(o.due_at)) for o in sim.obligations if o.step == "complex_progress"}
    for detected in sim.violations:  # the log and the obligations must tell the same story
        v = detected.violation
        assert (v.occurrence, OVERDUE, utc(v.due_at)) in final
    assert final == {
        (1, OVERDUE, utc(datetime(2026, 3, 11, 10, tzinfo=CST))),
        (2, OVERDUE, utc(datetime(2026, 3, 20, 10, tzinfo=CST))),
        (3, MET, utc(datetime(2026, 3, 31, 10, tzinfo=CST))),
        (4, OPEN, utc(datetime(2026, 4, 1, 10, tzinfo=CST))),
    }


# ─── Nursing (seed 000): R13-R14 ───────────────────────────────────────────────────────────────


def test_nursing_reaction_solution_and_callback_on_time() -> None:
    """R14: initial reaction within 2 hours, solution within 24 hours, callback within 24 hours
    after the service ended — wall-clock, nights and weekends included (24小时在线客服). R13: the
    ward's head nurse is the named owner of each step."""
    sim = run("nursing_care/on_time.yaml")
    assert violations(sim) == []
    assert obligations(sim) == table(
        [
            ("N-1", "initial_reaction", 1, "gaoyan", MET, datetime(2026, 4, 10, 22, tzinfo=CST)),
            ("N-1", "solution", 1, "gaoyan", MET, datetime(2026, 4, 11, 20, tzinfo=CST)),
            (
                "N-1",
                "service_callback",
                1,
                "role:customer_service",
                MET,
                datetime(2026, 4, 12, 15, tzinfo=CST),
            ),
        ]
    )


def test_nursing_late_reaction_missed_solution_and_callback() -> None:
    """R14: a late initial reaction is still a violation (status late); a solution only reached
    after 24 hours and a missing callback are violations too; escalation runs in two levels."""
    sim = run("nursing_care/late.yaml")
    assert violations(sim) == expect(
        [
            ("N-2", "initial_reaction", "linna", datetime(2026, 4, 10, 10, tzinfo=CST), None),
            ("N-2", "solution", "linna", datetime(2026, 4, 11, 8, tzinfo=CST), None),
            ("N-2", "service_callback", "role:customer_service", datetime(2026, 4, 12, 12, tzinfo=CST), None),
        ]
    )
    assert obligations(sim) == table(
        [
            ("N-2", "initial_reaction", 1, "linna", LATE, datetime(2026, 4, 10, 10, tzinfo=CST)),
            ("N-2", "solution", 1, "linna", OVERDUE, datetime(2026, 4, 11, 8, tzinfo=CST)),
            (
                "N-2",
                "service_callback",
                1,
                "role:customer_service",
                OVERDUE,
                datetime(2026, 4, 12, 12, tzinfo=CST),
            ),
        ]
    )
    # The reaction came at 10:30, before the second level (11:00) was due: only the first fires.
    assert sent(sim, "N-2", "initial_reaction", NotificationKind.ESCALATION) == [
        (utc(datetime(2026, 4, 10, 10, tzinfo=CST)), ("hejing",))
    ]
    assert sent(sim, "N-2", "solution", NotificationKind.ESCALATION) == [
        (utc(datetime(2026, 4, 11, 8, tzinfo=CST)), ("hejing",)),
        (utc(datetime(2026, 4, 11, 10, tzinfo=CST)), ("yangfan", "hejing")),
    ]


def test_nursing_every_problem_has_an_owner_until_handed_over() -> None:
    """R13: a complaint with no ward still has a named owner (the satisfaction director, the
    policy's owner) and deadlines; R16: after the explicit handover the new owner owes the same
    deadlines and the director's part is handed_over."""
    sim = run("nursing_care/owner_fallback.yaml")
    assert violations(sim) == []
    assert obligations(sim) == table(
        [
            ("N-3", "initial_reaction", 1, "yangfan", HANDED_OVER, datetime(2026, 4, 10, 11, tzinfo=CST)),
            ("N-3", "initial_reaction", 1, "maxiao", MET, datetime(2026, 4, 10, 11, tzinfo=CST)),
            ("N-3", "solution", 1, "yangfan", HANDED_OVER, datetime(2026, 4, 11, 9, tzinfo=CST)),
            ("N-3", "solution", 1, "maxiao", MET, datetime(2026, 4, 11, 9, tzinfo=CST)),
            (
                "N-3",
                "service_callback",
                1,
                "role:customer_service",
                MET,
                datetime(2026, 4, 11, 18, tzinfo=CST),
            ),
        ]
    )
    assert all(o.actors for o in sim.obligations)  # nobody-owned obligations never occur


def test_nursing_missed_by_the_fallback_owner_is_escalated_above_her() -> None:
    """R13: a complaint with no ward falls to the satisfaction director (yangfan, the owner). When
    she misses the 2-hour reaction and the 24-hour solution, supervisor_of(handler) is her own
    supervisor (liuhong, the president), not herself: the miss is told to someone above her. The
    second levels name roles, as written (the satisfaction director, and the nursing director for
    the solution); policy check warns that the reaction's chain can end at its own actor."""
    sim = run("nursing_care/no_ward_missed.yaml")
    assert violations(sim) == expect(
        [
            ("N-4", "initial_reaction", "yangfan", datetime(2026, 4, 10, 11, tzinfo=CST), None),
            ("N-4", "solution", "yangfan", datetime(2026, 4, 11, 9, tzinfo=CST), None),
        ]
    )
    assert sent(sim, "N-4", "initial_reaction", NotificationKind.ESCALATION) == [
        (utc(datetime(2026, 4, 10, 11, tzinfo=CST)), ("liuhong",)),
        (utc(datetime(2026, 4, 10, 12, tzinfo=CST)), ("yangfan",)),
    ]
    assert sent(sim, "N-4", "solution", NotificationKind.ESCALATION) == [
        (utc(datetime(2026, 4, 11, 9, tzinfo=CST)), ("liuhong",)),
        (utc(datetime(2026, 4, 11, 11, tzinfo=CST)), ("yangfan", "hejing")),
    ]
    # Requests and reminders still go to her: she owns it (R13).
    assert sent(sim, "N-4", "initial_reaction", NotificationKind.REQUEST) == [
        (utc(datetime(2026, 4, 10, 9, tzinfo=CST)), ("yangfan",))
    ]


# ─── English walkthrough (America/New_York) ────────────────────────────────────────────────────


def test_walkthrough_24h_deadline_across_dst_and_handover() -> None:
    """Wall-clock 24h across the spring-forward change (2026-03-08 02:00 EST → 03:00 EDT): received
    2026-03-07 12:00-05:00, due 2026-03-08 13:00-04:00 (24 elapsed hours). R16: after the
    `assigned` event the previous handler's obligation is handed_over and the new handler owes it
    with the same due time; the previous handler can no longer fulfil it."""
    sim = run("walkthrough_en/dst_handover.yaml")
    due = datetime(2026, 3, 8, 13, tzinfo=NY)
    assert due.isoformat() == "2026-03-08T13:00:00-04:00"
    assert utc(due) - utc(datetime(2026, 3, 7, 12, tzinfo=NY)) == timedelta(hours=24)
    assert violations(sim) == expect([("C-2", "acknowledge", "linda", due, None)])
    # Written response: 5 working days of 09:00-17:00 from Saturday → Mon 03-09 … Fri 03-13 17:00.
    response_due = datetime(2026, 3, 13, 17, tzinfo=NY)
    assert {row for row in obligations(sim) if row[1] in {"acknowledge", "written_response"}} == table(
        [
            ("C-1", "acknowledge", 1, "priya", HANDED_OVER, due),
            ("C-1", "acknowledge", 1, "linda", MET, due),
            ("C-2", "acknowledge", 1, "priya", HANDED_OVER, due),
            ("C-2", "acknowledge", 1, "linda", OVERDUE, due),
            ("C-1", "written_response", 1, "priya", HANDED_OVER, response_due),
            ("C-1", "written_response", 1, "linda", OPEN, response_due),
            ("C-2", "written_response", 1, "priya", HANDED_OVER, response_due),
            ("C-2", "written_response", 1, "linda", OPEN, response_due),
        ]
    )
    handed = next(
        o for o in sim.obligations if (o.complaint, o.step, o.actor) == ("C-1", "acknowledge", "priya")
    )
    assert handed.ended_at == utc(datetime(2026, 3, 7, 15, tzinfo=NY))
    # Requests and 6-hourly reminders follow the owner: Priya at 12:00; Linda from the handover at
    # 15:00 EST, reminded 21:00 EST and 04:00 EDT (6 elapsed hours later, across the change).
    assert sent(sim, "C-1", "acknowledge", NotificationKind.REQUEST) == [
        (utc(datetime(2026, 3, 7, 12, tzinfo=NY)), ("priya",)),
        (utc(datetime(2026, 3, 7, 15, tzinfo=NY)), ("linda",)),
    ]
    assert sent(sim, "C-1", "acknowledge", NotificationKind.REMINDER) == [
        (utc(datetime(2026, 3, 7, 21, tzinfo=NY)), ("linda",)),
        (utc(datetime(2026, 3, 8, 4, tzinfo=NY)), ("linda",)),
    ]
    # C-2's miss is escalated to Linda's supervisor, not Priya's.
    assert sent(sim, "C-2", "acknowledge", NotificationKind.ESCALATION) == [(utc(due), ("omar",))]


def test_walkthrough_dual_paths_penalties_escalation_and_follow_up() -> None:
    """Walkthrough of R3 (dual paths, any-of target), R4 (penalty only for not reporting), R10
    (working-day deadline with a two-level escalation) and R11 (follow-up after resolution)."""
    sim = run("walkthrough_en/missed_reports.yaml")
    # Tue 03-10 10:00: written response within 40 working hours: 7 + 8 + 8 + 8 + 8 + 1 → 03-17 10:00.
    assert violations(sim) == expect(
        [
            ("C-3", "tell_supervisor", "jamal", datetime(2026, 3, 10, 10, 30, tzinfo=NY), WARNING),
            ("C-3", "supervisor_alerts_leadership", "linda", datetime(2026, 3, 10, 12, tzinfo=NY), WARNING),
            ("C-3", "written_response", "priya", datetime(2026, 3, 17, 10, tzinfo=NY), None),
        ]
    )
    assert obligations(sim) == table(
        [
            ("C-3", "tell_supervisor", 1, "jamal", OVERDUE, datetime(2026, 3, 10, 10, 30, tzinfo=NY)),
            ("C-3", "first_hearer_alerts_leadership", 1, "jamal", MET, datetime(2026, 3, 10, 12, tzinfo=NY)),
            (
                "C-3",
                "supervisor_alerts_leadership",
                1,
                "linda",
                OVERDUE,
                datetime(2026, 3, 10, 12, tzinfo=NY),
            ),
            ("C-3", "written_response", 1, "priya", OVERDUE, datetime(2026, 3, 17, 10, tzinfo=NY)),
            # Resolved Wed 03-18 15:00: 2 working days = 2 + 8 + 6 hours → Fri 03-20 15:00.
            ("C-3", "follow_up_call", 1, "priya", MET, datetime(2026, 3, 20, 15, tzinfo=NY)),
        ]
    )
    assert sent(sim, "C-3", "written_response", NotificationKind.ESCALATION) == [
        (utc(datetime(2026, 3, 17, 10, tzinfo=NY)), ("grace",)),
        (utc(datetime(2026, 3, 18, 10, tzinfo=NY)), ("dana",)),
    ]
    assert sent(sim, "C-3", "supervisor_alerts_leadership", NotificationKind.ESCALATION) == [
        (utc(datetime(2026, 3, 10, 12, tzinfo=NY)), ("dana", "omar"))
    ]


def test_walkthrough_conditions_by_severity_and_channel() -> None:
    """Conditions (R9 triage): re-classifying a complaint urgent starts the 1-hour clinical review
    then and cancels the normal written response; desk and phone complaints need no written
    acknowledgement; an unreviewed urgent complaint is the Medical Director's violation."""
    sim = run("walkthrough_en/urgent_condition.yaml")
    assert violations(sim) == expect(
        [("C-5", "clinical_review", "omar", datetime(2026, 3, 12, 15, tzinfo=NY), None)]
    )
    rows = {row for row in obligations(sim) if row[1] in {"clinical_review", "written_response"}}
    # C-4 (Thu 09:30) written response would have been due 5 working days later, Thu 03-19 09:30.
    assert rows == table(
        [
            ("C-4", "clinical_review", 1, "omar", MET, datetime(2026, 3, 12, 11, tzinfo=NY)),
            ("C-4", "written_response", 1, "priya", CANCELLED, datetime(2026, 3, 19, 9, 30, tzinfo=NY)),
            ("C-5", "clinical_review", 1, "omar", OVERDUE, datetime(2026, 3, 12, 15, tzinfo=NY)),
        ]
    )
    assert not [o for o in sim.obligations if o.step == "acknowledge"]
    assert sent(sim, "C-5", "clinical_review", NotificationKind.ESCALATION) == [
        (utc(datetime(2026, 3, 12, 15, tzinfo=NY)), ("dana",))
    ]


LATE_HANDOVER = "walkthrough_en/late_handover.yaml"


def test_walkthrough_missed_acknowledgement_stays_with_the_owner_at_the_due_time() -> None:
    """R16, R4: Priya owned the acknowledgement when it fell due (03-10 10:00 EDT + 24h): the
    violation is hers, even though the complaint is handed to Linda afterwards."""
    sim = run(LATE_HANDOVER)
    assert violations(sim) == expect(
        [("C-1", "acknowledge", "priya", datetime(2026, 3, 11, 10, tzinfo=NY), None)]
    )


def test_walkthrough_new_owner_can_complete_an_overdue_step() -> None:
    """R16, R12: after the explicit handover Linda owns the complaint; her acknowledgement at
    03-11 12:00 EDT completes the overdue step late, and the record shows when it was done."""
    sim = run(LATE_HANDOVER)
    acknowledge = [o for o in sim.obligations if o.step == "acknowledge"]
    assert [(o.status, o.done_at) for o in acknowledge if o.done_at is not None] == [
        (LATE, utc(datetime(2026, 3, 11, 12, tzinfo=NY)))
    ]
