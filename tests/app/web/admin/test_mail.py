"""The administrators' failed-mail page: what failed or keeps failing, by ids, never by address."""

import asyncio
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.web.application import create_app
from flows.clock import FakeClock
from flows.intake.store import NewComplaint, accept_complaint
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from flows.runtime.outbox import drain
from models.complaint import Channel, Complainant
from models.db import migrate
from notifiers.outbound.sink import MailSink
from tests.app.auth_support import sign_in
from tests.runtime_support import START, make_runtime

PAGE = "/admin/mail-failures"


def _app(runtime: Runtime) -> FastAPI:
    return create_app(runtime)


def _complaint(runtime: Runtime, email: str, channel: Channel = Channel.WEB, **fields: str) -> str:
    complainant = Complainant(name="山田花子", email=email)
    new = NewComplaint(channel=channel, complainant=complainant, body="待合室が寒い", **fields)
    complaint_id = accept_complaint(runtime.sessions, runtime.registry, runtime.clock, new)
    process_complaint(runtime, complaint_id)
    return complaint_id


def test_admins_see_failed_and_retrying_mail_without_addresses(tmp_path: Path, sink: MailSink) -> None:
    url = f"sqlite:///{tmp_path / 'mail.db'}"
    migrate(url)
    clock = FakeClock(START)
    runtime = make_runtime(url, sink, clock)
    web = TestClient(_app(runtime))
    sign_in(web, runtime, "admin")
    empty = web.get(PAGE, headers={"Accept-Language": "en"})
    assert empty.status_code == 200
    assert 'id="no-mail-failures"' in empty.text
    assert f'href="{PAGE}"' in empty.text  # in the admins' navigation

    # A receipt the relay can never take (stored before intake checked addresses) ...
    refused = _complaint(runtime, "Yamada <hanako@example.org>")
    asyncio.run(drain(runtime))
    # ... and mail that keeps failing while SMTP is down.
    sink.stop()
    retrying = _complaint(runtime, "taro@example.org", Channel.PHONE, heard_by="tanaka")
    asyncio.run(drain(runtime))
    sink.start()

    page = web.get(PAGE, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    rows = page.text.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    failed = [r for r in rows if refused in r]
    assert len(failed) == 1
    for shown in ("receipt", "complainant", "given up", "<td>1</td>", "BadAddress", "2026-04-01 10:00 JST"):
        assert shown in failed[0], shown
    kept_failing = [r for r in rows if retrying in r]
    assert kept_failing
    assert all("retrying" in r and "SendFailed" in r for r in kept_failing)
    assert any("<td>tanaka</td>" in r for r in kept_failing)  # recipients by person id
    for secret in ("hanako", "taro", "example.org", "keieikai.example", "山田", "寒い"):
        assert secret not in page.text

    clock.advance(timedelta(minutes=1))
    asyncio.run(drain(runtime))  # SMTP is back: the retried mail goes out and leaves the page
    after = web.get(PAGE).text
    assert refused in after
    assert retrying not in after


def test_only_admins_see_failed_mail(tmp_path: Path, sink: MailSink) -> None:
    url = f"sqlite:///{tmp_path / 'mail.db'}"
    migrate(url)
    runtime = make_runtime(url, sink, FakeClock(START))
    app = _app(runtime)
    assert TestClient(app).get(PAGE, follow_redirects=False).status_code == 303
    for role in ("staff", "auditor"):
        client = TestClient(app)
        sign_in(client, runtime, role)
        page = client.get(PAGE)
        assert page.status_code == 403
        assert f'href="{PAGE}"' not in client.get("/dashboard").text
