"""The administrators' policy pages end to end through the web app: upload, check, diff, dry run,
activate; and who may see them."""

import html
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from app.web.application import create_app
from flows.clock import FakeClock
from flows.intake.store import NewComplaint, accept_complaint
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from models.complaint import Channel
from models.tables import ComplaintRow, PolicyActivationRow, ViolationRow
from notifiers.outbound.sink import MailSink
from tests.app.auth_support import sign_in
from tests.runtime_support import CLINIC, START, make_runtime

STRICTER = (
    CLINIC.read_text(encoding="utf-8")
    .replace("within: 30分", "within: 10分", 1)
    .replace("remind: {every: 10分}", "remind: {every: 5分}", 1)
)
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def runtime(database_url: str, sink: MailSink, clock: FakeClock) -> Runtime:
    return make_runtime(database_url, sink, clock)


@pytest.fixture
def web(runtime: Runtime) -> TestClient:
    return TestClient(create_app(runtime))


def _text(response: Response) -> str:
    return html.unescape(response.text)


def _hidden(response: Response, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to ``action`` on the page."""
    form = response.text.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    return {name: html.unescape(value) for name, value in _HIDDEN.findall(form)}


def _check(web: TestClient, **fields: str) -> Response:
    page = web.get("/admin/policies")
    data = {"csrf_token": _hidden(page, "/admin/policies/check")["csrf_token"], **fields}
    response: Response = web.post("/admin/policies/check", data=data)
    return response


def _submit(runtime: Runtime) -> str:
    new = NewComplaint(channel=Channel.PHONE, heard_by="tanaka")
    return accept_complaint(runtime.sessions, runtime.registry, runtime.clock, new)


def test_an_admin_uploads_checks_dry_runs_and_activates_a_stricter_policy(
    web: TestClient, runtime: Runtime, clock: FakeClock
) -> None:
    admin = sign_in(web, runtime, "admin")
    in_flight = _submit(runtime)
    clock.advance(timedelta(hours=1))  # sessions end after 2 idle hours

    index = web.get("/admin/policies?lang=en")  # remembered in a cookie for the following pages
    assert index.status_code == 200
    assert "configuration" in _text(index)

    broken = _check(web, policy_text=STRICTER.replace("within: 10分", "within: soon"))
    assert broken.status_code == 422
    assert "uploaded.yaml:47:13: within: 'soon' is not a duration" in _text(broken)

    page = web.get("/admin/policies")
    token = _hidden(page, "/admin/policies/check")["csrf_token"]
    upload = ("stricter.yaml", STRICTER.encode(), "application/yaml")
    checked = web.post("/admin/policies/check", data={"csrf_token": token}, files={"policy_file": upload})
    assert checked.status_code == 200, checked.text
    text = _text(checked)
    assert "step report_to_supervisor: within 30分 → 10分" in text
    assert "+    within: 10分" in text
    carried = _hidden(checked, "/admin/policies/dry-run")
    assert carried["name"] == "stricter.yaml"
    assert carried["policy_text"] == STRICTER

    ran = web.post("/admin/policies/dry-run", data={**carried, "days": "7"})
    assert ran.status_code == 200, ran.text
    result = _text(ran)
    assert "1 complaints received since" in result
    assert "1 would have gone differently" in result
    expected = (
        f'<td>{in_flight}</td><td class="added">added</td><td>violation</td>'
        "<td>report_to_supervisor #1</td><td>tanaka</td><td>2026-04-01 10:10 JST</td>"
    )
    assert expected in ran.text

    confirm = _hidden(ran, "/admin/policies/activate")
    unconfirmed = web.post("/admin/policies/activate", data=confirm)
    assert unconfirmed.status_code == 422
    activated = web.post(
        "/admin/policies/activate", data={**confirm, "confirm": "yes"}, follow_redirects=False
    )
    assert activated.status_code == 303
    assert activated.headers["location"].startswith("/admin/policies?activated=sha256:")
    after = _text(web.get(activated.headers["location"]))
    assert "is now active for new complaints" in after

    with runtime.sessions() as session:
        latest = session.scalars(select(PolicyActivationRow).order_by(PolicyActivationRow.seq.desc())).first()
        assert latest is not None
        assert (latest.activated_by, latest.source) == (admin, STRICTER)
    new = _submit(runtime)
    clock.advance(timedelta(minutes=15))
    process_complaint(runtime, new)
    with runtime.sessions() as session:
        row = session.get(ComplaintRow, new)
        assert row is not None
        assert row.policy_version == latest.version
        steps = list(session.scalars(select(ViolationRow.step).where(ViolationRow.complaint_id == new)))
    assert steps == ["report_to_supervisor"]


def test_the_pages_speak_japanese_and_chinese(web: TestClient, runtime: Runtime) -> None:
    sign_in(web, runtime, "admin")
    assert "クレーム対応ポリシー" in web.get("/admin/policies?lang=ja").text
    checked = _check(web, policy_text=STRICTER)
    assert "ステップ report_to_supervisor: 期限 (within) 30分 → 10分" in _text(checked)
    assert "投诉处理规则" in web.get("/admin/policies?lang=zh").text
    assert "步骤 report_to_supervisor: 期限 (within) 30分 → 10分" in _text(_check(web, policy_text=STRICTER))


def test_a_server_file_can_be_named_but_nothing_outside_the_policies_folder(
    web: TestClient, runtime: Runtime
) -> None:
    sign_in(web, runtime, "admin")
    web.get("/admin/policies?lang=en")
    same = _check(web, server_path="keieikai_clinic.yaml")
    assert same.status_code == 200
    assert "This is the active version" in same.text
    assert "No rule changes." in same.text
    outside = _check(web, server_path="../pyproject.toml")
    assert outside.status_code == 422
    assert "name a .yaml file inside the policies folder" in outside.text


def test_user_text_is_escaped_everywhere_it_is_shown(web: TestClient, runtime: Runtime) -> None:
    sign_in(web, runtime, "admin")
    hostile = STRICTER.replace("name: クレーム対応方針(経営計画書P27)", 'name: "<script>alert(1)</script>"')
    checked = _check(web, policy_text=hostile)
    assert checked.status_code == 200
    assert "<script>alert(1)</script>" not in checked.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in checked.text
    broken = _check(web, policy_text="id: x\n<img src=x onerror=alert(1)>: [\n")
    assert broken.status_code == 422
    assert "<img" not in broken.text


def test_posts_without_the_csrf_token_or_without_a_policy_are_refused(
    web: TestClient, runtime: Runtime
) -> None:
    sign_in(web, runtime, "admin")
    web.get("/admin/policies")
    for path in ("/admin/policies/check", "/admin/policies/dry-run", "/admin/policies/activate"):
        refused = web.post(path, data={"policy_text": STRICTER, "days": "7", "confirm": "yes"})
        assert refused.status_code == 403, path
    assert _check(web).status_code == 422
    checked = _check(web, policy_text=STRICTER)
    carried = _hidden(checked, "/admin/policies/dry-run")
    assert web.post("/admin/policies/dry-run", data={**carried, "days": "0"}).status_code == 422
    tampered = {**carried, "policy_text": carried["policy_text"].replace("within: 10分", "within: never")}
    assert web.post("/admin/policies/dry-run", data={**tampered, "days": "7"}).status_code == 422
    with runtime.sessions() as session:
        assert len(session.scalars(select(PolicyActivationRow)).all()) == 1


@pytest.mark.parametrize("role", ["auditor", "staff"])
def test_auditors_and_staff_may_not_see_or_change_policies(
    web: TestClient, runtime: Runtime, role: str
) -> None:
    sign_in(web, runtime, role)
    assert web.get("/admin/policies").status_code == 403
    for path in ("/admin/policies/check", "/admin/policies/dry-run", "/admin/policies/activate"):
        assert web.post(path, data={"policy_text": STRICTER, "confirm": "yes"}).status_code == 403
    with runtime.sessions() as session:
        assert len(session.scalars(select(PolicyActivationRow)).all()) == 1


def test_anonymous_visitors_are_sent_to_sign_in(web: TestClient) -> None:
    page = web.get("/admin/policies", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login?next=/admin/policies")
    posted = web.post("/admin/policies/activate", data={"confirm": "yes"}, follow_redirects=False)
    assert posted.status_code == 303
    assert posted.headers["location"].startswith("/login?next=")
