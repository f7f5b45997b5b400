"""Hostile input through the JSON API: each gets a clear 4xx, or is stored as given and rendered safely.

Rendering is checked where complaint text reaches people: the action page (``GET /a/<token>``) and
the emails actually sent through the outbox to a real SMTP sink.
"""

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.web.application import create_app
from flows.clock import FakeClock
from flows.records.events import load_events
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from flows.runtime.outbox import drain
from models.db import migrate
from models.events import ComplaintReceived
from models.tables import ComplaintRow, EventRow
from notifiers.outbound.sink import MailSink, StoredMail
from tests.app.auth_support import api_token
from tests.runtime_support import START, make_runtime

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
ZERO_WIDTH = "a\u200bb\u200dc\ufeff"
RTL = "\u202eevil\u202c"
LINK = re.compile(r"http://testserver/a/[A-Za-z0-9_.\-]+")


@pytest.fixture
def runtime(tmp_path: Path, sink: MailSink) -> Runtime:
    url = f"sqlite:///{tmp_path / 'hostile.db'}"
    migrate(url)
    return make_runtime(url, sink, FakeClock(START))


@pytest.fixture
def web(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as client:
        yield client


def _submit(web: TestClient, runtime: Runtime, **fields: object) -> str:
    # A phone complaint is logged by staff: only a staff account may say who heard it.
    new = {"channel": "phone", "heard_by": "tanaka", "category": "attitude", **fields}
    staff = {"Authorization": f"Bearer {api_token(runtime, 'staff')}"}
    response = web.post("/api/complaints", json=new, headers=staff)
    assert response.status_code == 201, response.text
    complaint_id: str = response.json()["id"]
    process_complaint(runtime, complaint_id)
    asyncio.run(drain(runtime))
    return complaint_id


def _received(runtime: Runtime, complaint_id: str) -> ComplaintReceived:
    with runtime.sessions() as session:
        first = load_events(session, complaint_id)[0][0]
    assert isinstance(first, ComplaintReceived)
    return first


def _complaints(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(ComplaintRow)) or 0)


def _html(mail: StoredMail) -> str:
    part = mail.message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def _action_page(web: TestClient, sink: MailSink) -> str:
    for mail in sink.messages():
        if mail.message["X-Complaintflow-Step"] == "report_to_supervisor":
            text = mail.message.get_body(preferencelist=("plain",))
            found = LINK.search(str(text.get_content()) if text else "")
            if found:
                page = web.get("/a/" + found.group(0).rsplit("/", 1)[1])
                assert page.status_code == 200
                return str(page.text)
    raise AssertionError("no action link was mailed")


def test_markup_is_stored_as_given_and_rendered_escaped(
    web: TestClient, runtime: Runtime, sink: MailSink
) -> None:
    subject = f"{SCRIPT}{IMG}"
    complaint = _submit(
        web, runtime, subject=subject, body=f"body {SCRIPT}", complainant={"name": f"{IMG}{SCRIPT}"}
    )
    stored = _received(runtime, complaint)
    assert (stored.subject, stored.body, stored.complainant.name) == (
        subject,
        f"body {SCRIPT}",
        f"{IMG}{SCRIPT}",
    )

    page = _action_page(web, sink)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page
    assert "<img" not in page

    mails = sink.messages()
    assert mails
    for mail in mails:
        html = _html(mail)
        assert "<script>" not in html
        assert "<img" not in html
        subject_header = str(mail.message["Subject"])
        assert "\n" not in subject_header
        assert "\r" not in subject_header
    assert any("&lt;script&gt;" in _html(m) for m in mails), "the subject reaches at least one email, escaped"


def test_crlf_in_names_and_subjects_injects_no_header(
    web: TestClient, runtime: Runtime, sink: MailSink
) -> None:
    injected = "Hello\r\nBcc: victim@example.org\r\nX-Injected: yes\r\n\r\n<b>body</b>"
    complaint = _submit(
        web,
        runtime,
        subject=injected,
        complainant={"name": injected, "email": "patient@example.org", "language": "en"},
    )
    assert _received(runtime, complaint).subject == injected  # stored as given
    mails = sink.messages()
    assert mails
    for mail in mails:
        assert mail.message["X-Injected"] is None
        assert mail.message["Bcc"] is None
        assert "victim@example.org" not in mail.envelope_to
        for name, value in mail.message.items():
            assert "\n" not in str(value), name
            assert "\r" not in str(value), name


def test_invisible_and_bidi_characters_are_stored_as_given_and_rendered_escaped(
    web: TestClient, runtime: Runtime, sink: MailSink
) -> None:
    subject = f"{ZERO_WIDTH} {RTL} {SCRIPT}"
    complaint = _submit(web, runtime, subject=subject, complainant={"name": RTL})
    assert _received(runtime, complaint).subject == subject
    assert _received(runtime, complaint).complainant.name == RTL
    page = _action_page(web, sink)
    assert ZERO_WIDTH in page
    assert RTL in page
    assert "<script>" not in page


def test_a_10_mb_body_is_413_and_nothing_is_stored(web: TestClient, runtime: Runtime) -> None:
    huge = json.dumps({"channel": "web", "body": "x" * (10 * 1024 * 1024)}).encode()
    headers = {"Content-Type": "application/json"}
    declared = web.post("/api/complaints", content=huge, headers=headers)
    assert declared.status_code == 413
    assert "limit" in declared.json()["detail"]

    # Chunked, with no Content-Length: the middleware counts the streamed bytes itself.
    def chunks() -> Iterator[bytes]:
        for start in range(0, len(huge), 1 << 16):
            yield huge[start : start + (1 << 16)]

    streamed = web.post("/api/complaints", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    # A lying Content-Length gets no further than an honest one.
    lying = web.post("/api/complaints", content=chunks(), headers={**headers, "Content-Length": "10"})
    assert lying.status_code in {400, 413}
    assert _complaints(runtime) == 0
    with runtime.sessions() as session:
        assert session.scalar(select(func.count()).select_from(EventRow)) == 0


def test_the_action_route_is_limited_too(web: TestClient) -> None:
    body = json.dumps({"step": "s", "by": "b", "note": "n" * 100_000}).encode()
    response = web.post(
        "/api/complaints/2026-000001/actions",
        content=body,
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + "h" * 40},
    )
    assert response.status_code == 413


def test_invalid_utf8_is_a_4xx(web: TestClient, runtime: Runtime) -> None:
    bad = b'{"channel": "web", "subject": "\xff\xfe\xc3\x28 caf\xe9"}'
    response = web.post("/api/complaints", content=bad, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert _complaints(runtime) == 0


@pytest.mark.parametrize(
    "text",
    [
        '{"channel": "web", "subject": "nul \\u0000 byte"}',
        '{"channel": "web", "subject": "lone \\ud800 surrogate"}',
    ],
)
def test_unstorable_characters_are_422(web: TestClient, runtime: Runtime, text: str) -> None:
    response = web.post(
        "/api/complaints", content=text.encode(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "subject"]
    assert _complaints(runtime) == 0


def test_a_huge_number_of_fields_is_a_4xx(web: TestClient, runtime: Runtime) -> None:
    fields = {f"f{i}": i for i in range(5000)}
    response = web.post("/api/complaints", json={"channel": "web", **fields})
    assert 400 <= response.status_code < 500
    assert _complaints(runtime) == 0


def test_deeply_nested_json_is_a_4xx(web: TestClient, runtime: Runtime) -> None:
    depth = 30_000  # 60 KB: under the size limit, far past Python's recursion limit
    nested = b'{"channel": "web", "complainant": ' + b"[" * depth + b"]" * depth + b"}"
    response = web.post("/api/complaints", content=nested, headers={"Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert _complaints(runtime) == 0
