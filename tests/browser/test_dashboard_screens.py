"""The dashboard in a real browser (Debian's Chromium via Playwright, a real uvicorn server, SQLite),
in Japanese and in English, over four recorded weeks of complaints in three departments.

The complaints go through the runtime on a fake clock (``tests.dashboard_support.record_weeks``):
巡回健診部 does every step within minutes, 介護事業部 reports late, 外来 misses every third
complaint. An auditor signs in through /login. Screenshots go to artifacts/screenshots/.
"""

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect

from app.prefect_server import free_port
from app.web.application import create_app
from flows.clock import FakeClock
from flows.runtime.assembly import Runtime
from models.db import migrate
from notifiers.outbound.sink import MailSink
from tests.app.auth_support import PASSWORD, make_account
from tests.dashboard_support import record_weeks
from tests.factories import REPO
from tests.runtime_support import START, make_runtime

SHOTS = REPO / "artifacts" / "screenshots"


class _Server:
    """uvicorn in a thread on a free loopback port, stopped by flag (no signals in a thread)."""

    def __init__(self, runtime: Runtime) -> None:
        self.port = free_port()
        config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> "_Server":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                pytest.fail("uvicorn did not start", pytrace=False)
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def site(tmp_path: Path, sink: MailSink) -> Iterator[tuple[_Server, str]]:
    url = f"sqlite:///{tmp_path / 'dashboard.db'}"
    migrate(url)
    clock = FakeClock(START)
    runtime = make_runtime(url, sink, clock)
    record_weeks(runtime, clock)
    auditor = make_account(runtime, "auditor")
    with _Server(runtime) as server:
        yield server, auditor


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_the_dashboard_in_japanese_and_english(chromium: Browser, site: tuple[_Server, str]) -> None:
    server, auditor = site
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = context.new_page()

    # Anonymous: the dashboard sends the browser to sign in, then back.
    page.goto(f"{server.url}/dashboard")
    expect(page).to_have_url(f"{server.url}/login?next=/dashboard")
    page.locator("#username").fill(auditor)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    expect(page).to_have_url(f"{server.url}/dashboard")

    # Japanese: chosen from the browser's language.
    expect(page.get_by_role("heading", level=1)).to_have_text("ダッシュボード")
    ranking = page.locator("#table-ranking tbody tr")
    expect(ranking.first).to_contain_text("巡回健診部")  # every step on time but missed incident reports
    expect(ranking.first.locator("td").first).to_have_text("1")
    expect(ranking.nth(2)).to_contain_text("介護事業部")  # reports late, consults late: last
    # 巡回健診部 met 112 of 124 obligations due: 4 steps x 28 complaints on time, 12 incident reports
    # (3 working days after a resolution) never filed.
    checkup = page.locator("#table-departments tbody tr", has_text="巡回健診部")
    expect(checkup.locator("td").last).to_have_text("90.3%")
    chart = page.get_by_role("img", name="部署別の期限内対応率")
    expect(chart).to_be_visible()
    expect(chart.locator("g.bar", has_text="巡回健診部")).to_contain_text("90.3%")
    expect(page.locator("svg.chart")).to_have_count(6)
    _shot(page, "dashboard-ja")

    # English, through the language switch; the filters stay as they were.
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_role("heading", name="Department ranking")).to_be_visible()
    expect(page.locator("#table-ranking tbody tr").first).to_contain_text("巡回健診部")
    expect(page.get_by_role("img", name="Share of obligations met on time, per department")).to_be_visible()
    _shot(page, "dashboard-en")

    # One department: its numbers only, and the ranking still shows where it stands.
    page.get_by_label("Department", exact=True).select_option(label="介護事業部")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#table-departments tbody tr")).to_have_count(1)
    expect(page.locator("#table-ranking tr.selected")).to_contain_text("介護事業部")
    context.close()
