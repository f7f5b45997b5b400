"""The HTML forms as a browser-less client sees them: CSRF, honeypot, size and rate limits,
languages, escaping, and what the status page leaves out."""

import hashlib
import re
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.web.application import create_app
from flows.clock import FakeClock
from flows.records.events import load_events
from flows.runtime.assembly import Runtime
from models.db import migrate
from models.events import ComplaintReceived
from models.tables import AttachmentRow, ComplaintRow
from notifiers.outbound.sink import MailSink
from tests.app.auth_support import api_token, make_account, sign_in
from tests.runtime_support import START, make_runtime

FORM = "/complaints/new"
STAFF_FORM = "/staff/complaints/new"
HOSTILE = "<script>alert('x')</script>"


def _setup(tmp_path: Path, sink: MailSink) -> tuple[TestClient, Runtime]:
    url = f"sqlite:///{tmp_path / 'forms.db'}"
    migrate(url)
    runtime = make_runtime(url, sink, FakeClock(START))
    return TestClient(create_app(runtime)), runtime


def _csrf(web: TestClient, path: str = FORM) -> str:
    page = web.get(path)
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def _count(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ComplaintRow)) or 0)


def _submit(web: TestClient, **fields: str) -> str:
    data = {"csrf_token": _csrf(web), "consent": "yes", "body": "待ち時間が長すぎました。"} | fields
    receipt = web.post(FORM, data=data, files={"attachments": ("", b"", "application/octet-stream")})
    assert receipt.status_code == 200, receipt.text
    text: str = receipt.text
    return text


def test_a_complaint_is_received_with_a_tracking_number_and_status_link(
    tmp_path: Path, sink: MailSink
) -> None:
    web, runtime = _setup(tmp_path, sink)
    receipt = _submit(web, category="fees", email="patient@example.com", name="山田")
    tracking = re.search(r'id="tracking-number">([0-9-]+)<', receipt)
    status = re.search(r'href="(/status/[^"]+)"', receipt)
    assert tracking
    assert status
    with runtime.sessions() as session:
        events, _ = load_events(session, tracking.group(1))
    received = events[0]
    assert isinstance(received, ComplaintReceived)
    assert (received.channel, received.category, received.complainant.email) == (
        "web",
        "fees",
        "patient@example.com",
    )
    page = web.get(status.group(1))
    assert page.status_code == 200
    assert tracking.group(1) in page.text
    assert web.get("/status/forged.token").status_code == 404


def test_post_without_a_valid_csrf_token_is_403(tmp_path: Path, sink: MailSink) -> None:
    web, runtime = _setup(tmp_path, sink)
    assert web.post(FORM, data={"body": "x", "consent": "yes"}).status_code == 403
    token = _csrf(web)
    assert web.post(FORM, data={"csrf_token": token + "x", "body": "x", "consent": "yes"}).status_code == 403
    # A valid token from another browser (no matching cookie) does not help a forger.
    web.cookies.clear()
    assert web.post(FORM, data={"csrf_token": token, "body": "x", "consent": "yes"}).status_code == 403
    sign_in(web, runtime, "staff")
    assert web.post(STAFF_FORM, data={"body": "x"}).status_code == 403
    assert _count(runtime) == 0


def test_the_honeypot_looks_accepted_but_stores_nothing(tmp_path: Path, sink: MailSink) -> None:
    web, runtime = _setup(tmp_path, sink)
    page = _submit(web, website="http://spam.example")
    assert 'id="tracking-number"' not in page
    assert _count(runtime) == 0


def test_oversize_attachments_are_413(tmp_path: Path, sink: MailSink) -> None:
    web, runtime = _setup(tmp_path, sink)
    data = {"csrf_token": _csrf(web), "consent": "yes", "body": "写真を添付します"}
    big = ("photo.jpg", b"\0" * (5 * 1024 * 1024 + 1), "image/jpeg")
    refused = web.post(FORM, data=data, files={"attachments": big})
    assert refused.status_code == 413
    assert "5MB" in refused.text
    small = ("photo.jpg", b"\xff\xd8" * 1000, "image/jpeg")
    accepted = web.post(FORM, data=data, files={"attachments": small})
    assert accepted.status_code == 200
    assert "photo.jpg (2000 bytes)" in accepted.text
    assert _count(runtime) == 1
    with runtime.sessions() as session:
        [stored] = session.scalars(select(AttachmentRow)).all()
    assert (stored.filename, stored.content_type, stored.size) == ("photo.jpg", "image/jpeg", 2000)
    assert stored.content == small[1]
    assert stored.sha256 == hashlib.sha256(small[1]).hexdigest()


def test_the_public_form_is_rate_limited_per_address(tmp_path: Path, sink: MailSink) -> None:
    web, _ = _setup(tmp_path, sink)
    statuses = [web.post(FORM, data={"body": "x"}).status_code for _ in range(6)]
    assert statuses == [403] * 5 + [429]
    assert "1" in web.post(FORM, data={"body": "x"}).text  # the page says to wait a minute


def test_invalid_fields_show_the_form_again_with_messages(tmp_path: Path, sink: MailSink) -> None:
    web, runtime = _setup(tmp_path, sink)
    data = {"csrf_token": _csrf(web), "body": HOSTILE, "email": "not an address", "name": "a\r\nBcc: x"}
    page = web.post(FORM, data=data, headers={"Accept-Language": "en"})
    assert page.status_code == 422
    assert "Please agree to the privacy notice" in page.text
    assert "This does not look like an email address." in page.text
    assert "characters that are not allowed" in page.text
    assert HOSTILE not in page.text
    assert "&lt;script&gt;" in page.text
    assert _count(runtime) == 0


def test_languages_follow_accept_language_and_lang_is_remembered(tmp_path: Path, sink: MailSink) -> None:
    web, _ = _setup(tmp_path, sink)
    chinese = web.get(FORM, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh">' in chinese.text
    assert '<label for="body">发生了什么事?</label>' in chinese.text
    english = web.get(FORM, headers={"Accept-Language": "fr, en;q=0.8"})
    assert '<html lang="en">' in english.text
    assert "What happened?" in english.text
    switched = web.get(FORM + "?lang=ja", headers={"Accept-Language": "en"})
    assert '<html lang="ja">' in switched.text
    remembered = web.get(FORM, headers={"Accept-Language": "en"})
    assert '<html lang="ja">' in remembered.text


def test_every_input_has_a_label(tmp_path: Path, sink: MailSink) -> None:
    web, runtime = _setup(tmp_path, sink)
    sign_in(web, runtime, "staff")
    for path in (FORM, STAFF_FORM):
        page = web.get(path).text
        ids = set(re.findall(r'<(?:input|select|textarea) id="([^"]+)"', page))
        labelled = set(re.findall(r'<label[^>]* for="([^"]+)"', page))
        assert ids, path
        assert ids <= labelled, (path, ids - labelled)


def test_script_in_the_text_is_escaped_and_status_names_no_staff(tmp_path: Path, sink: MailSink) -> None:
    web, runtime = _setup(tmp_path, sink)
    receipt = _submit(web, subject=HOSTILE, body=HOSTILE)
    assert HOSTILE not in receipt
    assert "&lt;script&gt;" in receipt
    complaint = re.search(r'id="tracking-number">([0-9-]+)<', receipt)
    status = re.search(r'href="(/status/[^"]+)"', receipt)
    assert complaint
    assert status
    action = {"step": "report_to_supervisor", "by": "watanabe", "to": "kobayashi", "note": "院長に口頭で報告"}
    headers = {"Authorization": f"Bearer {api_token(runtime, 'staff')}"}
    assert (
        web.post(f"/api/complaints/{complaint.group(1)}/actions", json=action, headers=headers).status_code
        == 202
    )
    page = web.get(status.group(1)).text
    assert "上司へ事実を報告・連絡" in page
    assert "<script" not in page.replace("<script>", "")  # no script tag at all
    for secret in ("watanabe", "kobayashi", "渡辺", "小林", "院長に口頭で報告", "uketsuke@"):
        assert secret not in page


def test_staff_log_a_phone_complaint_heard_at_a_local_time(tmp_path: Path, sink: MailSink) -> None:
    web, runtime = _setup(tmp_path, sink)
    sign_in(web, runtime, "staff")
    form = web.get(STAFF_FORM).text
    assert 'value="2026-04-01T10:00"' in form  # now, in the policy's time zone
    data = {
        "csrf_token": _csrf(web, STAFF_FORM),
        "heard_by": "tanaka",
        "heard_at": "2026-04-01T09:30",
        "channel": "phone",
        "name": "佐々木",
        "body": "電話で苦情",
    }
    receipt = web.post(STAFF_FORM, data=data)
    assert receipt.status_code == 200, receipt.text
    complaint = re.search(r'id="tracking-number">([0-9-]+)<', receipt.text)
    assert complaint
    with runtime.sessions() as session:
        events, _ = load_events(session, complaint.group(1))
    received = events[0]
    assert isinstance(received, ComplaintReceived)
    assert (received.channel, received.heard_by) == ("phone", "tanaka")
    assert received.heard_at is not None
    assert received.heard_at == START.replace(hour=9, minute=30)  # START is 10:00 Asia/Tokyo
    bad = web.post(STAFF_FORM, data=data | {"heard_by": "nobody", "heard_at": "2027-01-01T00:00"})
    assert bad.status_code == 422


def test_the_staff_form_needs_a_staff_or_admin_account(tmp_path: Path, sink: MailSink) -> None:
    web, runtime = _setup(tmp_path, sink)
    anonymous = web.get(STAFF_FORM, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == "/login?next=/staff/complaints/new"
    assert web.post(STAFF_FORM, data={"body": "x"}, follow_redirects=False).status_code == 303
    sign_in(web, runtime, "auditor")
    assert web.get(STAFF_FORM).status_code == 403
    assert web.post(STAFF_FORM, data={"body": "x"}).status_code == 403
    admin = TestClient(web.app)
    sign_in(admin, runtime, "admin")
    assert admin.get(STAFF_FORM).status_code == 200
    assert _count(runtime) == 0


def test_a_staff_account_linked_to_a_person_is_preselected_as_the_hearer(
    tmp_path: Path, sink: MailSink
) -> None:
    web, runtime = _setup(tmp_path, sink)
    make_account(runtime, "staff", "tanaka-desk", person="tanaka")
    sign_in(web, runtime, "staff", "tanaka-desk")
    form = web.get(STAFF_FORM).text
    assert re.search(r'<option value="tanaka" selected>', form)
    assert 'id="signed-in-user">Test staff<' in form  # the navigation says who is signed in
    unlinked = TestClient(web.app)
    sign_in(unlinked, runtime, "staff")
    assert " selected>" not in unlinked.get(STAFF_FORM).text.split('id="heard_by"')[1].split("</select>")[0]


def test_the_staff_form_keeps_the_account_and_bounds_when_it_was_heard(
    tmp_path: Path, sink: MailSink
) -> None:
    web, runtime = _setup(tmp_path, sink)
    desk = sign_in(web, runtime, "staff")
    data = {"heard_by": "tanaka", "channel": "phone", "body": "電話で苦情"}
    accepted = web.post(
        STAFF_FORM, data=data | {"csrf_token": _csrf(web, STAFF_FORM), "heard_at": "2026-03-05T10:00"}
    )
    assert accepted.status_code == 200, accepted.text  # 27 days ago: inside the 30-day window
    complaint = re.search(r'id="tracking-number">([0-9-]+)<', accepted.text)
    assert complaint
    with runtime.sessions() as session:
        received = load_events(session, complaint.group(1))[0][0]
    assert isinstance(received, ComplaintReceived)
    assert received.recorded_by == desk
    # START is 2026-04-01 10:00 Asia/Tokyo: the window runs from 03-02 10:00 to 10:05.
    for too_far in ("2026-03-01T10:00", "2026-04-01T10:06", "0001-01-01T00:00"):
        refused = web.post(
            STAFF_FORM,
            data=data | {"csrf_token": _csrf(web, STAFF_FORM), "heard_at": too_far},
            headers={"Accept-Language": "ja"},
        )
        assert refused.status_code == 422, too_far
        error = re.search(r'id="err-heard_at">([^<]+)<', refused.text)
        assert error, too_far
        assert "2026-03-02 10:00から2026-04-01 10:05(Asia/Tokyo)まで" in error.group(1)
    assert _count(runtime) == 1


def test_the_public_form_refuses_staff_fields_naming_them(tmp_path: Path, sink: MailSink) -> None:
    web, runtime = _setup(tmp_path, sink)
    data = {"csrf_token": _csrf(web), "consent": "yes", "body": "待ち時間が長すぎました。"}
    for extra, named in (
        ({"heard_by": "tanaka", "heard_at": "2026-03-29T10:00"}, "heard_by, heard_at"),
        ({"channel": "phone"}, "channel"),
        ({"severity": "high"}, "severity"),
    ):
        refused = web.post(FORM, data=data | extra, headers={"Accept-Language": "en"})
        assert refused.status_code == 403, extra
        assert f"entered by staff only: {named}." in refused.text
    assert _count(runtime) == 0
    assert web.post(FORM, data=data | {"csrf_token": _csrf(web), "channel": "web"}).status_code == 200


def test_the_public_form_refuses_addresses_a_receipt_cannot_go_to(tmp_path: Path, sink: MailSink) -> None:
    web, runtime = _setup(tmp_path, sink)
    for address in (
        "a@example.jp,b@example.jp",
        "Yamada <a@example.jp>",
        "やまだ@example.jp",
        "a@b@example.jp",
    ):
        data = {"csrf_token": _csrf(web), "consent": "yes", "body": "寒い", "email": address}
        refused = web.post(FORM, data=data, headers={"Accept-Language": "en"})
        assert refused.status_code == 422, address
        assert "does not look like an email address" in refused.text
    assert _count(runtime) == 0
    _submit(web, email="Hanako.Yamada+clinic@Example.JP")
    with runtime.sessions() as session:
        stored = session.scalars(select(ComplaintRow.id)).one()
        received = load_events(session, stored)[0][0]
    assert isinstance(received, ComplaintReceived)
    assert received.complainant.email == "Hanako.Yamada+clinic@example.jp"
