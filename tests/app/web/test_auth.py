"""Signing in and out through the pages, as a browser-less client: cookies, redirects, CSRF, limits."""

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.web.application import create_app
from app.web.auth import SESSION_COOKIE
from flows.clock import FakeClock
from flows.runtime.assembly import Runtime
from models.db import migrate
from models.tables import WebSessionRow
from notifiers.outbound.sink import MailSink
from tests.app.auth_support import PASSWORD, csrf_token, make_account, sign_in
from tests.runtime_support import START, make_runtime


@pytest.fixture
def runtime(tmp_path: Path, sink: MailSink) -> Runtime:
    url = f"sqlite:///{tmp_path / 'auth.db'}"
    migrate(url)
    return make_runtime(url, sink, FakeClock(START))


@pytest.fixture
def web(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime)) as client:
        yield client


def _login(web: TestClient, username: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
    data = {"username": username, "password": password, "csrf_token": csrf_token(web)} | extra
    response: httpx.Response = web.post("/login", data=data, follow_redirects=False)
    return response


def test_sign_in_goes_back_to_the_page_asked_for_and_sign_out_ends_the_session(
    web: TestClient, runtime: Runtime
) -> None:
    name = make_account(runtime, "admin")
    asked = web.get("/admin/accounts?lang=en", follow_redirects=False)
    assert asked.status_code == 303
    assert asked.headers["location"] == "/login?next=/admin/accounts%3Flang%3Den"
    form = web.get(asked.headers["location"])
    assert 'name="next" value="/admin/accounts?lang=en"' in form.text
    signed_in = _login(web, name, next="/admin/accounts?lang=en")
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/admin/accounts?lang=en"
    page = web.get("/admin/accounts")
    assert page.status_code == 200
    assert 'id="signed-in-user">Test admin<' in page.text
    token = re.search(r'action="/logout"><input type="hidden" name="csrf_token" value="([^"]+)"', page.text)
    assert token

    out = web.post("/logout", data={"csrf_token": token.group(1)})
    assert out.status_code == 200
    assert "Sign in" in out.text or "ログイン" in out.text
    assert SESSION_COOKIE not in web.cookies
    with runtime.sessions() as session:
        assert session.scalars(select(WebSessionRow.revoked_at)).one() is not None
    assert web.get("/admin/accounts", follow_redirects=False).status_code == 303


def test_a_stolen_cookie_is_useless_after_sign_out(web: TestClient, runtime: Runtime) -> None:
    sign_in(web, runtime, "admin")
    stolen = web.cookies[SESSION_COOKIE]
    page = web.get("/admin/accounts").text
    found = re.search(r'action="/logout"><input type="hidden" name="csrf_token" value="([^"]+)"', page)
    assert found
    web.post("/logout", data={"csrf_token": found.group(1)})
    thief = TestClient(web.app, cookies={SESSION_COOKIE: stolen})
    assert thief.get("/admin/accounts", follow_redirects=False).status_code == 303
    assert thief.get("/api/violations").status_code == 401


def test_wrong_credentials_get_one_generic_message(web: TestClient, runtime: Runtime) -> None:
    name = make_account(runtime, "staff")
    wrong_password = _login(web, name, "not the password at all")
    unknown_user = _login(web, "nobody-here")
    for response in (wrong_password, unknown_user):
        assert response.status_code == 401
        assert "ユーザー名またはパスワードが正しくありません。" in response.text
        assert SESSION_COOKIE not in response.cookies
    english = web.post(
        "/login",
        data={"username": name, "password": "nope", "csrf_token": csrf_token(web)},
        headers={"Accept-Language": "en"},
    )
    assert "Wrong username or password." in english.text
    assert f'value="{name}"' in english.text  # the username stays filled in; the password never does


def test_the_session_cookie_is_httponly_lax_and_secure_over_https(web: TestClient, runtime: Runtime) -> None:
    name = make_account(runtime, "staff")
    plain = _login(web, name)
    cookie = plain.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # http://testserver: dev and tests
    assert "Max-Age" not in cookie  # ends with the browser; the server ends it sooner
    runtime.base_url = "https://complaints.example"
    secure = _login(TestClient(web.app, base_url="https://testserver"), name)
    assert "Secure" in secure.headers["set-cookie"]


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "/\r\nLocation: https://evil.example",
        "/\tevil.example",
        "javascript:alert(1)",
        "evil.example",
        "/login",
    ],
)
def test_next_never_leaves_the_site(web: TestClient, runtime: Runtime, target: str) -> None:
    name = make_account(runtime, "auditor")
    form = web.get("/login", params={"next": target}).text
    assert "evil" not in form
    response = _login(web, name, next=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/audit/violations"


def test_sign_in_and_sign_out_need_the_csrf_token(web: TestClient, runtime: Runtime) -> None:
    name = make_account(runtime, "staff")
    csrf_token(web)  # the browser has the CSRF cookie, but the form below does not carry the token
    forged = web.post("/login", data={"username": name, "password": PASSWORD}, follow_redirects=False)
    assert forged.status_code == 403
    assert SESSION_COOKIE not in web.cookies
    sign_in(web, runtime, "staff", name)
    forced_out = web.post("/logout", data={})
    assert forced_out.status_code == 403
    assert 'action="/logout"' in forced_out.text  # asks to confirm, with a token this time
    assert web.get("/staff/complaints/new").status_code == 200  # still signed in


def test_sign_in_attempts_are_rate_limited_per_address(web: TestClient, runtime: Runtime) -> None:
    name = make_account(runtime, "staff")
    statuses = [_login(web, name, "wrong password!").status_code for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    assert _login(web, name).status_code == 429  # even the right password waits


def test_a_wrong_role_gets_a_localized_403_page(web: TestClient, runtime: Runtime) -> None:
    sign_in(web, runtime, "staff")
    for language, text in (("ja", "アクセスできません"), ("zh", "无权访问"), ("en", "Not allowed")):
        page = web.get("/admin/accounts", headers={"Accept-Language": language})
        assert page.status_code == 403
        assert f'<html lang="{language}">' in page.text
        assert text in page.text
        assert 'href="/staff/complaints/new"' in page.text  # the navigation shows what staff may use
        assert 'href="/admin/accounts"' not in page.text


def test_a_disabled_account_is_signed_out_at_its_next_request(web: TestClient, runtime: Runtime) -> None:
    admin = TestClient(web.app)
    sign_in(admin, runtime, "admin")
    victim = sign_in(web, runtime, "staff")
    assert web.get("/staff/complaints/new").status_code == 200
    page = admin.get("/admin/accounts").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    disabled = admin.post(f"/admin/accounts/{victim}/disable", data={"csrf_token": token.group(1)})
    assert disabled.status_code == 200
    assert web.get("/staff/complaints/new", follow_redirects=False).status_code == 303
    assert _login(web, victim).status_code == 401
