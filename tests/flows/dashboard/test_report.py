"""The dashboard's numbers over a small recorded week, worked out by hand, on SQLite and PostgreSQL.

Three phone complaints under the clinic policy on Wednesday 2026-04-01 (Tokyo), each through the
runtime (intake, recorded steps, the engine's decisions; ``tests.dashboard_support.record_week``),
looked at on Thursday 09:00:

- C1 heard by 田中 (巡回健診部) at 10:00: 田中 reports at 10:10 and mails the top at 10:20 (both on
  time), his supervisor 佐藤 consults the top at 12:00 (due 11:00: late) and calls the patient at
  11:30 (due 12:00: on time); resolved at 13:00.
- C2 heard by 鈴木 (外来) at 10:05: nobody does anything, all four obligations are missed.
- C3 heard by 高橋 (介護事業部) at 10:10: 加藤 consults the top at 10:40 and calls at 11:00, 高橋
  mails the top at 10:50 (all on time) but reports to 加藤 only at 10:50 (due 10:40: late).
"""

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from sqlalchemy import update

from flows.clock import FakeClock
from flows.dashboard.report import Dashboard, PeriodInvalid, build_dashboard, period_for
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from models.tables import ViolationRow
from tests.dashboard_support import LOOK, complaint, record_week
from tests.factories import REPO, TOKYO
from tests.runtime_support import CLINIC


@pytest.fixture
def week(runtime: Runtime, clock: FakeClock) -> tuple[str, str, str]:
    return record_week(runtime, clock)


def _dashboard(runtime: Runtime, department: str | None = None, **dates: date) -> Dashboard:
    with runtime.sessions() as session:
        period = period_for(LOOK, TOKYO, **dates)
        return build_dashboard(session, runtime.registry, period, LOOK, department)


def test_on_time_shares_per_department_and_step(runtime: Runtime, week: tuple[str, str, str]) -> None:
    board = _dashboard(runtime)
    assert [(r.department_name, r.met, r.late, r.missed, r.share) for r in board.by_department] == [
        ("巡回健診部", 3, 1, 0, 0.75),
        ("外来(京橋クリニック)", 0, 0, 4, 0.0),
        ("介護事業部", 3, 1, 0, 0.75),
    ]
    assert [(r.step_title, r.met, r.late, r.missed) for r in board.by_step] == [
        ("上司へ事実を報告・連絡", 1, 1, 1),
        ("社長か担当役員へ一言メール", 2, 0, 1),
        ("上司が社長か担当役員へ報告・相談", 1, 1, 1),
        ("お詫びの電話と事実確認(初期対応)", 2, 0, 1),
    ]
    checkup = [(r.step, r.met, r.late) for r in board.by_department_step if r.department == "checkup"]
    assert checkup == [
        ("report_to_supervisor", 1, 0),
        ("first_hearer_notifies_top", 1, 0),
        ("supervisor_consults_top", 0, 1),
        ("apology_call", 1, 0),
    ]


def test_response_and_resolution_times(runtime: Runtime, week: tuple[str, str, str]) -> None:
    board = _dashboard(runtime)
    everyone, *departments = board.response
    assert (everyone.spread.count, everyone.spread.median, everyone.spread.p90) == (2, 20 * 60, 28 * 60)
    assert everyone.spread.buckets[:2] == (1, 1)  # 10 min, and 30 min (which is not under 30)
    assert [(t.department, t.spread.count) for t in departments] == [
        ("checkup", 1),
        ("clinic", 0),
        ("care", 1),
    ]
    resolution = board.resolution[0].spread
    assert (resolution.count, resolution.median) == (1, 3 * 3600)
    assert resolution.buckets[3] == 1  # 2–4 h


def test_violations_by_week_unresolved_and_ranking(runtime: Runtime, week: tuple[str, str, str]) -> None:
    _, c2, c3 = week
    board = _dashboard(runtime)
    monday = date(2026, 3, 30)
    assert [(w.week, w.department, w.count) for w in board.violations] == [
        (monday, "checkup", 1),
        (monday, "clinic", 4),
        (monday, "care", 1),
    ]
    assert [(u.complaint, u.department) for u in board.unresolved] == [(c2, "clinic"), (c3, "care")]
    assert [u.age for u in board.unresolved] == [(23 * 60 - 5) * 60, (23 * 60 - 10) * 60]
    assert board.unresolved_ages == (2, 0, 0, 0, 0)
    ranked = [(r.rank, r.key, r.on_time, r.violations, r.complaints) for r in board.ranking]
    assert ranked == [
        (1, "checkup", 0.75, 1, 1),  # tied with care: same share, same violations per complaint
        (1, "care", 0.75, 1, 1),
        (3, "clinic", 0.0, 4, 1),
        (None, "management", None, 0, 0),  # nothing was due: listed, not ranked
    ]


def test_a_waived_violation_no_longer_counts(runtime: Runtime, week: tuple[str, str, str]) -> None:
    with runtime.sessions.begin() as session:
        # The status column is the projection of the latest ruling; waiving sets it so.
        session.execute(update(ViolationRow).where(ViolationRow.actor == "takahashi").values(status="waived"))
    board = _dashboard(runtime)
    care = next(r for r in board.ranking if r.key == "care")
    assert (care.rank, care.violations, care.per_complaint) == (1, 0, 0.0)
    assert [r.key for r in board.ranking][:2] == ["care", "checkup"]


def test_one_department_only_but_the_ranking_stays_whole(
    runtime: Runtime, week: tuple[str, str, str]
) -> None:
    _, c2, _ = week
    board = _dashboard(runtime, department="clinic")
    assert [r.department for r in board.by_department] == ["clinic"]
    assert [(r.step, r.missed) for r in board.by_step][:1] == [("report_to_supervisor", 1)]
    assert [w.department for w in board.violations] == ["clinic"]
    assert [u.complaint for u in board.unresolved] == [c2]
    assert [t.department for t in board.response] == ["", "clinic"]
    assert len(board.ranking) == 4


def test_the_period_bounds_what_counts(runtime: Runtime, week: tuple[str, str, str]) -> None:
    before = _dashboard(runtime, first=date(2026, 3, 1), last=date(2026, 3, 31))
    assert (before.by_department, before.violations, before.response[0].spread.count) == ((), (), 0)
    assert before.unresolved == ()  # received after the period ended
    after = _dashboard(runtime, first=date(2026, 4, 2), last=date(2026, 4, 2))
    assert after.by_department == ()
    assert [u.department for u in after.unresolved] == ["clinic", "care"]  # still open, from before


def test_default_period_and_invalid_periods() -> None:
    period = period_for(datetime(2026, 4, 1, 16, 0, tzinfo=TOKYO) + timedelta(hours=9), TOKYO)
    assert (period.first, period.last) == (date(2026, 1, 2), date(2026, 4, 2))
    assert period.end == datetime(2026, 4, 3, tzinfo=TOKYO)
    with pytest.raises(PeriodInvalid, match="after it ends"):
        period_for(LOOK, TOKYO, first=date(2026, 4, 3), last=date(2026, 4, 2))
    with pytest.raises(PeriodInvalid, match="longer than"):
        period_for(LOOK, TOKYO, first=date(2020, 1, 1), last=date(2026, 4, 2))
    for first, last in ((date(1, 1, 1), date(1, 1, 2)), (date(9999, 12, 30), date(9999, 12, 31))):
        with pytest.raises(PeriodInvalid, match="outside the days a period may cover"):
            period_for(LOOK, TOKYO, first=first, last=last)
    with pytest.raises(PeriodInvalid, match="outside"):
        period_for(LOOK, TOKYO, last=date(1, 1, 1))  # the default start would lie before year 1
    early = period_for(LOOK, TOKYO, last=date(2000, 1, 5))
    assert (early.first, early.start.year) == (date(2000, 1, 1), 2000)


def test_people_count_for_the_department_their_complaint_pinned(
    runtime: Runtime, clock: FakeClock, week: tuple[str, str, str], tmp_path: Path
) -> None:
    """田中 moves from 巡回健診部 to 外来: his earlier complaint still counts for 巡回健診部."""
    yaml = YAML()
    org = yaml.load((REPO / "policies" / "orgs" / "keieikai.yaml").read_text(encoding="utf-8"))
    tanaka = next(person for person in org["people"] if person["id"] == "tanaka")
    tanaka.update(department="clinic", supervisor="kobayashi")
    with (tmp_path / "org.yaml").open("w", encoding="utf-8") as handle:
        yaml.dump(org, handle)
    runtime.registry.activate(CLINIC, tmp_path / "org.yaml")
    moved = complaint(runtime, clock, LOOK - timedelta(hours=3), "tanaka")  # nobody acts: 4 more missed
    clock.set(LOOK)
    process_complaint(runtime, moved)
    board = _dashboard(runtime)
    counts = {r.department: (r.met, r.late, r.missed) for r in board.by_department}
    assert counts == {"checkup": (3, 1, 0), "clinic": (0, 0, 8), "care": (3, 1, 0)}
    complaints = {r.key: r.complaints for r in board.ranking}
    assert complaints == {"checkup": 1, "clinic": 2, "care": 1, "management": 0}
    assert [(w.department, w.count) for w in board.violations] == [("checkup", 1), ("clinic", 8), ("care", 1)]
