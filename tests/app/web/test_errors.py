"""Errors FastAPI and Starlette raise on their own reach people as the localized error page (ja, zh,
en), programs as JSON: too many files, an oversize text field, a bad recipient on an action link, a
failed validation, an unknown path, a wrong method."""

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.web.application import create_app
from flows.clock import FakeClock
from flows.intake.store import NewComplaint, accept_complaint
from flows.runtime.apply import process_complaint
from flows.runtime.assembly import Runtime
from flows.runtime.outbox import drain
from models.complaint import Channel
from models.db import migrate
from notifiers.outbound.sink import MailSink
from tests.app.auth_support import csrf_token, sign_in
from tests.runtime_support import START, action_paths, make_runtime

FORM = "/complaints/new"
_MAIN = re.compile(r"<main>(.*)</main>", re.S)
_TAGS = re.compile(r"<[^>]+>")


@pytest.fixture
def runtime(tmp_path: Path, sink: MailSink) -> Runtime:
    url = f"sqlite:///{tmp_path / 'errors.db'}"
    migrate(url)
    return make_runtime(url, sink, FakeClock(START))


@pytest.fixture
def web(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as client:
        yield client


def _page_text(response: object) -> str:
    """The words of an HTML page's main part, tags stripped, whitespace joined."""
    text = getattr(response, "text", "")
    found = _MAIN.search(text)
    assert found, f"not an HTML page: {text[:200]}"
    return " ".join(_TAGS.sub(" ", found.group(1)).split())


def _is_page(response: object, status: int, language: str) -> str:
    assert getattr(response, "status_code", None) == status
    headers = getattr(response, "headers", {})
    assert headers["content-type"].startswith("text/html")
    assert f'<html lang="{language}">' in getattr(response, "text", "")
    return _page_text(response)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "At most 5 files can be sent at once."),
        ("ja", "一度に送信できるファイルは 5 個までです。"),
        ("zh", "一次最多可提交 5 个文件。"),
    ],
)
def test_more_than_five_files_get_the_error_page_in_the_pages_language(
    web: TestClient, language: str, text: str
) -> None:
    token = csrf_token(web, f"{FORM}?lang={language}")
    files = [("attachments", (f"photo{i}.txt", b"x", "text/plain")) for i in range(6)]
    response = web.post(
        FORM, data={"csrf_token": token, "body": "待たされました", "consent": "yes"}, files=files
    )
    assert text in _is_page(response, 400, language)


def test_a_text_field_over_one_megabyte_gets_the_error_page(web: TestClient) -> None:
    token = csrf_token(web, FORM)
    form = {"csrf_token": token, "body": "x" * (1024 * 1024 + 1), "consent": "yes"}
    attachment = [("attachments", ("a.txt", b"x", "text/plain"))]  # multipart, as the browser sends it
    response = web.post(FORM, data=form, files=attachment, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "文本字段最多可容纳 1024 KB。" in _is_page(response, 400, "zh")


def _action_link(runtime: Runtime, sink: MailSink) -> str:
    """The action link 田中 is mailed for reporting a phone complaint he heard to his supervisor."""
    new = NewComplaint(channel=Channel.PHONE, heard_by="tanaka", subject="受付の対応")
    complaint = accept_complaint(runtime.sessions, runtime.registry, runtime.clock, new)
    process_complaint(runtime, complaint)
    asyncio.run(drain(runtime))
    (path,) = action_paths(sink, "tanaka@keieikai.example", "report_to_supervisor")[:1]
    return path


def test_a_bad_recipient_on_an_action_link_gets_a_page_and_the_link_still_works(
    web: TestClient, runtime: Runtime, sink: MailSink
) -> None:
    link = _action_link(runtime, sink)
    too_long = web.post(link, data={"to": "x" * 65, "note": "n"}, headers={"Accept-Language": "en"})
    assert "to: at most 64 characters." in _is_page(too_long, 422, "en")
    unknown = web.post(link, data={"to": "nobody"})
    text = _is_page(unknown, 422, "ja")  # the language of the person the link is for
    assert "記録されていません。報告先は一覧(" in text
    assert "佐藤" in text
    (recipient,) = re.findall(r'<option value="([^"]+)"', web.get(link).text)[:1]
    recorded = web.post(link, data={"to": recipient})
    assert recorded.status_code == 200  # nothing was recorded or spent by the refused posts


def test_validation_errors_unknown_pages_and_wrong_methods_get_the_page(
    web: TestClient, runtime: Runtime
) -> None:
    sign_in(web, runtime, "staff")
    long_date = web.get("/dashboard?lang=en&from=" + "9" * 41)
    assert "from: at most 40 characters." in _is_page(long_date, 422, "en")
    missing = web.get("/nowhere?lang=ja")
    assert "このアドレスのページはありません。" in _is_page(missing, 404, "ja")
    wrong = web.put("/dashboard?lang=zh")
    assert "此页面不能以这种方式(PUT)使用。" in _is_page(wrong, 405, "zh")
    assert wrong.headers["allow"] == "GET"
    assert "no-store" in wrong.headers["cache-control"]
    user_input = web.get("/dashboard?lang=en&from=<script>" + "x" * 40)
    assert "<script>" not in user_input.text  # the page names the field, never echoes the input


def test_programs_keep_their_json_errors(web: TestClient) -> None:
    invalid = web.post("/api/complaints", json={"channel": "fax"})
    assert invalid.status_code == 422
    assert ["body", "channel"] in [error["loc"] for error in invalid.json()["detail"]]
    assert web.get("/api/nowhere").json() == {"detail": "Not Found"}
    assert web.post("/healthz").json() == {"detail": "Method Not Allowed"}
    assert web.post("/openapi.json").json() == {"detail": "Method Not Allowed"}
    refused = web.get("/dashboard/ranking.csv")
    assert (refused.status_code, refused.headers["content-type"]) == (401, "application/json")
    assert web.get("/audit/violations.json").status_code == 401


def test_the_sign_in_redirect_is_still_a_redirect(web: TestClient) -> None:
    response = web.get("/dashboard?lang=en", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/dashboard%3Flang%3Den"
