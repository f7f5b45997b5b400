"""The auditors' pages through HTTP: filters, pages, evidence, rulings, exports, penalties, tamper check."""

import csv
import io
import json
import re
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from app.web.application import create_app
from app.web.audit import pages as violation_pages
from app.web.audit.texts import VIOLATION_TEXTS
from flows.audit import checkpoints as audit_checkpoints
from flows.clock import FakeClock
from flows.records import keys as audit_keys
from flows.runtime.assembly import Runtime
from models.tables import DecisionLogRow, ViolationRow
from notifiers.outbound.sink import MailSink
from tests.app.auth_support import api_token, csrf_token, sign_in
from tests.runtime_support import START, make_runtime
from tests.violation_support import unreported

HOSTILE = '<script>alert("x")</script>'
ROW_LINK = re.compile(r'<a href="/audit/violations/(2026-[^"]+)">')


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def runtime(database_url: str, sink: MailSink, clock: FakeClock) -> Runtime:
    """Two unreported complaints: tanaka (checkup) and suzuki (clinic), and their supervisors."""
    runtime = make_runtime(database_url, sink, clock)
    unreported(runtime, clock, heard_by="tanaka")
    unreported(runtime, clock, heard_by="suzuki")
    return runtime


@pytest.fixture
def web(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as client:
        yield client


@pytest.fixture
def auditor(web: TestClient, runtime: Runtime) -> TestClient:
    sign_in(web, runtime, "auditor", "audrey")
    return web


def _keys(page: httpx.Response) -> list[str]:
    return ROW_LINK.findall(page.text)


def _key(runtime: Runtime, actor: str, step: str) -> str:
    with runtime.sessions() as session:
        return session.scalars(
            select(ViolationRow.key).where(ViolationRow.actor == actor, ViolationRow.step == step)
        ).one()


def _rule(client: TestClient, key: str, ruling: str, reason: str, **extra: str) -> httpx.Response:
    path = f"/audit/violations/{quote(key)}"
    data = {"ruling": ruling, "reason": reason, "csrf_token": csrf_token(client, path)} | extra
    response: httpx.Response = client.post(f"{path}/rulings", data=data, follow_redirects=False)
    return response


def test_anonymous_is_sent_to_sign_in_and_staff_cannot_read_the_log(
    web: TestClient, runtime: Runtime
) -> None:
    for path in ("/audit/violations", "/audit/penalties", "/audit/verify"):
        asked = web.get(path, follow_redirects=False)
        assert asked.status_code == 303
        assert asked.headers["location"] == f"/login?next={path}"
    assert web.get("/audit/violations.csv").status_code == 401
    sign_in(web, runtime, "staff")
    assert web.get("/audit/violations").status_code == 403
    assert web.get(f"/audit/violations/{_key(runtime, 'tanaka', 'report_to_supervisor')}").status_code == 403
    assert web.get("/audit/violations.json").status_code == 403
    staff_token = api_token(runtime, "staff")
    assert (
        web.get("/audit/violations.csv", headers={"Authorization": f"Bearer {staff_token}"}).status_code
        == 403
    )


def test_the_log_shows_names_and_filters_like_the_exports(auditor: TestClient, runtime: Runtime) -> None:
    page = auditor.get("/audit/violations?lang=ja")
    assert page.status_code == 200
    assert len(_keys(page)) == 8
    assert "田中 一郎 <small>(tanaka)</small>" in page.text
    assert "上司へ事実を報告・連絡" in page.text
    assert "一年間賞与を半額カット" in page.text
    assert "巡回健診部" in page.text  # tanaka's department in the complaint's org snapshot
    assert '<a href="/audit/violations">条件を解除</a>' in page.text
    clinic = auditor.get("/audit/violations?department=clinic")
    assert {k.rsplit("/", 1)[1] for k in _keys(clinic)} == {"suzuki", "kobayashi"}
    assert 'href="/audit/violations.csv?department=clinic"' in clinic.text
    one = auditor.get("/audit/violations?person=tanaka&step=report_to_supervisor")
    assert _keys(one) == [_key(runtime, "tanaka", "report_to_supervisor")]
    version = runtime.registry.active.policy.version if runtime.registry.active else ""
    assert len(_keys(auditor.get(f"/audit/violations?version={quote(version)}"))) == 8
    # Due times: 10:30, 11:00 and 12:00 on 1 April for the first complaint, 13:30-15:00 for the second.
    assert len(_keys(auditor.get("/audit/violations?due_from=2026-04-01&due_to=2026-04-01"))) == 8
    assert _keys(auditor.get("/audit/violations?due_from=2026-04-02")) == []
    assert _keys(auditor.get("/audit/violations?due_to=2026-03-31")) == []
    bad = auditor.get("/audit/violations?due_from=1st+April&lang=en")
    assert bad.status_code == 422
    assert VIOLATION_TEXTS["en"]["bad_date"] in bad.text
    waived = _key(runtime, "suzuki", "first_hearer_notifies_top")
    assert _rule(auditor, waived, "waive", "Phoned the director at 13:05").status_code == 303
    assert _keys(auditor.get("/audit/violations?status=waived")) == [waived]
    assert len(_keys(auditor.get("/audit/violations?status=recorded"))) == 7


def test_pages_follow_one_another_without_overlap(
    auditor: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(violation_pages, "PAGE_SIZE", 3)
    seen: list[str] = []
    path = "/audit/violations?person=tanaka"
    while path:
        page = auditor.get(path)
        seen += _keys(page)
        found = re.search(r'id="next-page" href="([^"]+)"', page.text)
        path = found.group(1).replace("&amp;", "&") if found else ""
    everything = _keys(auditor.get("/audit/violations?person=tanaka"))
    assert seen == everything
    assert len(seen) == 2
    all_pages: list[str] = []
    path = "/audit/violations"
    while path:
        page = auditor.get(path)
        all_pages += _keys(page)
        found = re.search(r'id="next-page" href="([^"]+)"', page.text)
        path = found.group(1).replace("&amp;", "&") if found else ""
    assert len(all_pages) == len(set(all_pages)) == 8


def test_an_auditor_rules_through_the_evidence_page(auditor: TestClient, runtime: Runtime) -> None:
    key = _key(runtime, "tanaka", "report_to_supervisor")
    page = auditor.get(f"/audit/violations/{quote(key)}?lang=en")
    assert page.status_code == 200
    assert 'id="rule"' in page.text
    assert "Not done by the due time." in page.text
    assert "2026-04-01 to 2027-03-31" in page.text
    assert "2026-04-01 10:30 JST" in page.text  # the due time, in the clinic's zone
    disputed = _rule(auditor, key, "dispute", f"Tanaka says he phoned. {HOSTILE}")
    assert disputed.status_code == 303
    assert disputed.headers["location"] == f"/audit/violations/{key}?ruled=1"
    after = auditor.get(disputed.headers["location"])
    assert VIOLATION_TEXTS["en"]["ruled"] in after.text
    assert HOSTILE not in after.text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in after.text
    assert 'id="penalty-state">Suspended while disputed<' in after.text
    with runtime.sessions() as session:
        entry = session.scalars(select(DecisionLogRow).order_by(DecisionLogRow.seq.desc())).first()
        assert entry is not None
        assert (entry.kind, entry.subject, entry.actor) == ("violation_disputed", key, "audrey")
    blank = _rule(auditor, key, "confirm", "   ")
    assert blank.status_code == 422
    assert VIOLATION_TEXTS["en"]["refused_reason"] in blank.text
    again = _rule(auditor, key, "dispute", "still")
    assert again.status_code == 422
    assert VIOLATION_TEXTS["en"]["refused_same"] in again.text
    forged = auditor.post(
        f"/audit/violations/{quote(key)}/rulings",
        data={"ruling": "waive", "reason": "forged", "csrf_token": "nope"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    with runtime.sessions() as session:
        row = session.get(ViolationRow, key)
        assert row is not None
        assert row.status == "disputed"
    assert auditor.get("/audit/violations/2026-999999/nothing/1/x").status_code == 404


def test_an_admin_reads_the_evidence_but_cannot_rule(web: TestClient, runtime: Runtime) -> None:
    sign_in(web, runtime, "admin")
    key = _key(runtime, "sato", "supervisor_consults_top")
    page = web.get(f"/audit/violations/{quote(key)}?lang=zh")
    assert page.status_code == 200
    assert VIOLATION_TEXTS["zh"]["evidence_title"] in page.text
    assert 'id="rule"' not in page.text
    assert VIOLATION_TEXTS["zh"]["read_only"] in page.text
    refused = _rule(web, key, "waive", "admin override")
    assert refused.status_code == 403
    with runtime.sessions() as session:
        row = session.get(ViolationRow, key)
        assert row is not None
        assert row.status == "recorded"


def test_hostile_text_is_escaped_everywhere_it_shows(auditor: TestClient, runtime: Runtime) -> None:
    key = _key(runtime, "tanaka", "report_to_supervisor")
    with runtime.sessions.begin() as session:
        # As if a template had quoted the complainant's own subject line into the email's subject.
        session.execute(text("UPDATE outbox SET subject = :s WHERE recipient = 'tanaka'"), {"s": HOSTILE})
    page = auditor.get(f"/audit/violations/{quote(key)}")
    assert HOSTILE not in page.text
    assert "&lt;script&gt;" in page.text
    echoed = auditor.get(f"/audit/violations?person={quote(HOSTILE)}&due_to={quote(HOSTILE)}")
    assert HOSTILE not in echoed.text
    assert "<script>" not in echoed.text


def test_exports_stream_the_filtered_log_for_cookies_and_tokens(
    auditor: TestClient, runtime: Runtime
) -> None:
    as_csv = auditor.get("/audit/violations.csv?department=checkup")
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert {r["actor"] for r in rows} == {"tanaka", "sato"}
    assert len(rows) == 4
    token = api_token(runtime, "admin")
    as_json = auditor.get(
        "/audit/violations.json?department=checkup", headers={"Authorization": f"Bearer {token}"}
    )
    assert as_json.status_code == 200
    assert [r["key"] for r in json.loads(as_json.text)] == [r["key"] for r in rows]
    only = auditor.get("/audit/violations.json?person=suzuki&step=report_to_supervisor&status=recorded")
    assert [(r["actor"], r["penalty"]) for r in json.loads(only.text)] == [("suzuki", "bonus_half_cut")]
    assert json.loads(auditor.get("/audit/violations.json?due_from=2026-04-02").text) == []
    assert auditor.get("/audit/violations.csv?due_from=yesterday").status_code == 422
    assert auditor.get("/audit/violations.csv?status=deleted").status_code == 422
    for edge in ("due_from=0001-01-01", "due_to=9999-12-31"):  # days whose midnight has no UTC time
        assert auditor.get(f"/audit/violations.csv?{edge}").status_code == 422
        assert auditor.get(f"/audit/violations.json?{edge}").status_code == 422
        page = auditor.get(f"/audit/violations?{edge}&lang=en")
        assert page.status_code == 422
        assert VIOLATION_TEXTS["en"]["bad_date"] in page.text


def test_current_penalties_and_the_tamper_check(auditor: TestClient, runtime: Runtime) -> None:
    penalties = auditor.get("/audit/penalties?lang=ja")
    assert penalties.status_code == 200
    assert "田中 一郎" in penalties.text
    assert "2026-04-01 から 2027-03-31 まで" in penalties.text
    waived = _key(runtime, "tanaka", "report_to_supervisor")
    _rule(auditor, waived, "waive", "He reported in person")
    assert waived not in auditor.get("/audit/penalties").text
    clean = auditor.get("/audit/verify?lang=en")
    assert 'id="verify-clean"' in clean.text
    assert "2 event rows" in clean.text
    with runtime.sessions.begin() as session:
        session.execute(text("UPDATE violations SET status = 'confirmed' WHERE key = :k"), {"k": waived})
    broken = auditor.get("/audit/verify")
    assert 'id="verify-broken"' in broken.text
    assert f"violations row key={waived}: edited directly: status is &#39;confirmed&#39;" in broken.text


def test_every_language_has_every_text() -> None:
    keys = {language: set(texts) for language, texts in VIOLATION_TEXTS.items()}
    assert keys["ja"] == keys["en"] == keys["zh"]
    # Templates read texts as attributes (v.name): a key named like a dict method would show the method.
    assert not keys["en"] & set(dir(dict))


def test_the_tamper_check_names_the_checkpoint_a_wiped_log_contradicts(
    auditor: TestClient, runtime: Runtime
) -> None:
    assert 'id="verify-no-checkpoint"' in auditor.get("/audit/verify?lang=en").text
    with runtime.sessions() as session:
        audit_checkpoints.write(session, audit_keys.installed(), runtime.clock.now())
    clean = auditor.get("/audit/verify?lang=en")
    assert 'id="verify-clean"' in clean.text
    assert "1 signed checkpoints" in clean.text
    with runtime.sessions.begin() as session:
        for table in ("action_tokens", "obligations", "outbox", "violations", "events", "decision_log"):
            session.execute(text(f"DELETE FROM {table}"))
    broken = auditor.get("/audit/verify?lang=en")
    assert 'id="verify-broken"' in broken.text
    assert f"({audit_keys.installed().checkpoints} line 1)" in broken.text
    assert "truncated or wiped" in broken.text
