"""The administrators' account page: create accounts, disable them, issue and revoke API tokens."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.web.application import create_app
from flows.clock import FakeClock
from flows.runtime.assembly import Runtime
from models.db import migrate
from notifiers.outbound.sink import MailSink
from tests.app.auth_support import csrf_token, sign_in
from tests.runtime_support import START, make_runtime

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def runtime(tmp_path: Path, sink: MailSink) -> Runtime:
    url = f"sqlite:///{tmp_path / 'admin.db'}"
    migrate(url)
    return make_runtime(url, sink, FakeClock(START))


@pytest.fixture
def admin(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), headers={"Accept-Language": "en"}) as client:
        sign_in(client, runtime, "admin", "root")
        yield client


def _post(client: TestClient, path: str, **fields: str) -> str:
    response = client.post(path, data={"csrf_token": csrf_token(client, "/admin/accounts")} | fields)
    assert response.status_code == 200, response.text
    text: str = response.text
    return text


def test_an_admin_creates_a_staff_account_that_can_sign_in(admin: TestClient, runtime: Runtime) -> None:
    page = _post(
        admin, "/admin/accounts",
        username="Tanaka", display_name=HOSTILE, role="staff", person="tanaka", password="a fine passphrase",
    )  # fmt: skip
    assert "Account tanaka created." in page
    assert HOSTILE not in page
    assert "&lt;script&gt;" in page
    row = re.search(r'<tr id="account-tanaka">(.*?)</tr>', page, re.S)
    assert row
    assert "Staff" in row.group(1)
    assert "(tanaka)" in row.group(1)
    staff = TestClient(admin.app)
    signed_in = staff.post(
        "/login",
        data={"username": "tanaka", "password": "a fine passphrase", "csrf_token": csrf_token(staff)},
        follow_redirects=False,
    )
    assert signed_in.headers["location"] == "/staff/complaints/new"
    assert '<option value="tanaka" selected>' in staff.get("/staff/complaints/new").text


def test_bad_new_accounts_are_422_with_the_reason(admin: TestClient) -> None:
    token = csrf_token(admin, "/admin/accounts")
    cases = {
        "This username is taken.": {"username": "root"},
        "The password needs at least 12 characters.": {"password": "short"},
        "Choose one of the roles.": {"role": "superuser"},
        "Choose a person from the organisation, or nobody.": {"person": "nobody-like-this"},
    }
    for message, field in cases.items():
        data = {
            "csrf_token": token,
            "username": "sato",
            "role": "staff",
            "password": "a fine passphrase",
        } | field
        response = admin.post("/admin/accounts", data=data)
        assert response.status_code == 422
        assert message in response.text
        assert 'value="sato"' in response.text or field.get("username") == "root"  # what was typed stays
    assert 'id="account-sato"' not in admin.get("/admin/accounts").text
    forged = admin.post("/admin/accounts", data={"username": "sato", "role": "admin", "password": "x" * 20})
    assert forged.status_code == 403


def test_a_token_is_shown_once_works_and_stops_when_revoked(admin: TestClient, runtime: Runtime) -> None:
    sign_in(TestClient(admin.app), runtime, "auditor", "robot")
    page = _post(admin, "/admin/accounts/robot/tokens", name="nightly export")
    shown = re.search(r'<pre id="new-token">(cf_[^<]+)</pre>', page)
    assert shown
    token = shown.group(1)
    assert "shown only this once" in page
    assert "no-store" in admin.get("/admin/accounts").headers["cache-control"]
    assert token not in admin.get("/admin/accounts").text
    robot = {"Authorization": f"Bearer {token}"}
    assert admin.get("/api/violations", headers=robot).status_code == 200
    listing = admin.get("/admin/accounts").text
    token_id = re.search(r'name="token" value="([0-9a-f]{64})"', listing)
    assert token_id
    assert "Last used 2026-04-01 10:00 JST" in listing  # the fake clock's now, in the policy's zone
    assert "Token revoked." in _post(admin, "/admin/accounts/robot/tokens/revoke", token=token_id.group(1))
    assert admin.get("/api/violations", headers=robot).status_code == 401
    wrong_owner = admin.post(
        "/admin/accounts/root/tokens/revoke",
        data={"csrf_token": csrf_token(admin, "/admin/accounts"), "token": token_id.group(1)},
    )
    assert wrong_owner.status_code == 404


def test_an_admin_disables_others_but_not_themselves(admin: TestClient, runtime: Runtime) -> None:
    staff = TestClient(admin.app)
    sign_in(staff, runtime, "staff", "ito")
    assert "Account ito disabled." in _post(admin, "/admin/accounts/ito/disable")
    assert staff.get("/staff/complaints/new", follow_redirects=False).status_code == 303
    row = re.search(r'<tr id="account-ito">(.*?)</tr>', admin.get("/admin/accounts").text, re.S)
    assert row
    assert "Disabled" in row.group(1)
    assert 'action="/admin/accounts/root/disable"' not in admin.get("/admin/accounts").text
    itself = admin.post(
        "/admin/accounts/root/disable", data={"csrf_token": csrf_token(admin, "/admin/accounts")}
    )
    assert itself.status_code == 409
    assert "You cannot disable your own account." in itself.text
    assert admin.get("/admin/accounts").status_code == 200  # still signed in
