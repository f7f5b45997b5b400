"""The web app's API as a client sees it: status codes, validation and authorisation."""

from pathlib import Path

from fastapi.testclient import TestClient

from app.web.application import create_app
from flows.clock import FakeClock
from models.db import migrate
from notifiers.sink import MailSink
from tests.runtime_support import START, make_runtime

TOKEN = "t" * 40


def _client(url: str, sink: MailSink) -> TestClient:
    migrate(url)
    runtime = make_runtime(url, sink, FakeClock(START))
    return TestClient(create_app(runtime, api_token=TOKEN))


def test_complaints_are_created_and_bad_input_is_422(tmp_path: Path, sink: MailSink) -> None:
    web = _client(f"sqlite:///{tmp_path}/w.db", sink)
    created = web.post("/api/complaints", json={"channel": "web", "subject": "<script>alert(1)</script>"})
    assert created.status_code == 201
    assert created.json()["id"].startswith("2026-")
    bad = web.post("/api/complaints", json={"channel": "fax", "surprise": 1})
    assert bad.status_code == 422
    fields = {tuple(e["loc"]) for e in bad.json()["detail"]}
    assert ("body", "channel") in fields
    assert ("body", "surprise") in fields


def test_recording_an_action_needs_the_api_token_and_a_known_complaint(
    tmp_path: Path, sink: MailSink
) -> None:
    web = _client(f"sqlite:///{tmp_path}/w.db", sink)
    complaint = web.post("/api/complaints", json={"channel": "phone", "heard_by": "tanaka"}).json()["id"]
    action = {"step": "report_to_supervisor", "by": "tanaka", "to": "sato"}
    assert web.post(f"/api/complaints/{complaint}/actions", json=action).status_code == 403
    headers = {"Authorization": f"Bearer {TOKEN}"}
    assert web.post("/api/complaints/1999-000001/actions", json=action, headers=headers).status_code == 404
    recorded = web.post(f"/api/complaints/{complaint}/actions", json=action, headers=headers)
    assert recorded.status_code == 202
    assert recorded.json()["complaint"] == complaint


def test_a_forged_action_link_is_410_and_says_why(tmp_path: Path, sink: MailSink) -> None:
    web = _client(f"sqlite:///{tmp_path}/w.db", sink)
    page = web.get("/a/not-a-real-token")
    assert page.status_code == 410
    assert "not valid" in page.text
