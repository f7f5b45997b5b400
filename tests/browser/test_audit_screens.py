"""The auditors' pages in a real browser (Debian's Chromium via Playwright, a real uvicorn server,
SQLite), in Japanese and in English: the violation log, one violation's evidence, and a ruling.

Two phone complaints go through the runtime on a fake clock and nobody reports them, so the clinic
policy records eight violations. An auditor signs in through /login, reads the log and the evidence
of 田中's missed report, disputes it with a reason through the form and finds the ruling in the
history. Screenshots go to artifacts/screenshots/.
"""

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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
from tests.factories import REPO
from tests.runtime_support import START, make_runtime
from tests.violation_support import unreported

SHOTS = REPO / "artifacts" / "screenshots"
STEP_TITLE = "上司へ事実を報告・連絡"  # the clinic policy is written in Japanese: its titles are too
PENALTY = "一年間賞与を半額カット"
REASON = "田中さんは10:20に佐藤部長へ電話したと申告。通話記録を確認中。"


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
def site(tmp_path: Path, sink: MailSink) -> Iterator[tuple[_Server, str, str]]:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    migrate(url)
    clock = FakeClock(START)
    runtime = make_runtime(url, sink, clock)
    # Playwright's sync API owns this thread's event loop; sending the mail needs one of its own.
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(unreported, runtime, clock, "tanaka").result(timeout=120)
        pool.submit(unreported, runtime, clock, "suzuki").result(timeout=120)
    auditor = make_account(runtime, "auditor")
    with _Server(runtime) as server:
        yield server, auditor, first


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _sign_in(page: Page, server: _Server, auditor: str) -> None:
    page.goto(f"{server.url}/audit/violations")
    expect(page).to_have_url(f"{server.url}/login?next=/audit/violations")
    page.get_by_label("ユーザー名").fill(auditor)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()


def _dispute(page: Page) -> None:
    page.get_by_label("異議あり").check()
    page.get_by_label("理由(必須、削除されず残ります)").fill(REASON)
    page.get_by_role("button", name="判断を記録する").click()
    expect(page.locator("#notice")).to_have_text("判断を記録しました。")
    expect(page.locator("#rulings")).to_contain_text(REASON)
    expect(page.locator("#rulings")).to_contain_text("記録済み → 異議あり")
    expect(page.locator("#penalty-state")).to_have_text("異議申立て中のため保留")


def test_an_auditor_reads_the_log_and_disputes_a_violation_in_japanese_and_english(
    chromium: Browser, site: tuple[_Server, str, str]
) -> None:
    server, auditor, complaint = site
    context = chromium.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, server, auditor)

    expect(page.get_by_role("heading", level=1)).to_have_text("違反ログ")
    log = page.locator("#violations")
    expect(log.locator("tbody tr")).to_have_count(8)
    expect(log.get_by_role("link", name=complaint)).to_have_count(4)
    expect(log.get_by_text(STEP_TITLE)).to_have_count(2)
    expect(log.get_by_text(PENALTY).first).to_be_visible()
    expect(log.get_by_text("田中 一郎").first).to_be_visible()
    _shot(page, "violations-ja")

    page.get_by_label("担当者").select_option("tanaka")
    page.get_by_role("button", name="絞り込む").click()
    expect(log.locator("tbody tr")).to_have_count(2)
    log.locator("tr", has_text=STEP_TITLE).get_by_role("link", name=complaint).click()

    expect(page.get_by_role("heading", level=1)).to_have_text("違反の証拠")
    expect(page.locator("#complaint")).to_contain_text(complaint)
    expect(page.locator("#step")).to_contain_text(STEP_TITLE)
    expect(page.locator("#penalty")).to_contain_text(PENALTY)
    expect(page.locator("#penalty")).to_contain_text("2026-04-01 から 2027-03-31 まで")
    expect(page.locator("#due")).to_have_text("2026-04-01 10:30 JST")
    expect(page.locator("#no-rulings")).to_be_visible()
    _shot(page, "evidence-ja")

    _dispute(page)
    _shot(page, "evidence-ja-disputed")
    evidence_path = page.url.split("?")[0]

    page.goto(f"{server.url}/audit/violations?lang=en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Violation log")
    expect(page.locator("#violations tbody tr")).to_have_count(8)
    expect(page.locator("#violations").get_by_text("Disputed")).to_have_count(1)
    expect(page.locator("#violations").get_by_text(STEP_TITLE)).to_have_count(2)
    _shot(page, "violations-en")

    page.goto(evidence_path)  # the language choice is remembered in a cookie
    expect(page.get_by_role("heading", level=1)).to_have_text("Violation evidence")
    expect(page.locator("#complaint")).to_contain_text(complaint)
    expect(page.locator("#step")).to_contain_text(STEP_TITLE)
    expect(page.locator("#penalty")).to_contain_text(PENALTY)
    expect(page.locator("#penalty")).to_contain_text("2026-04-01 to 2027-03-31")
    expect(page.locator("#rulings")).to_contain_text("Recorded → Disputed")
    expect(page.locator("#rulings")).to_contain_text(REASON)
    _shot(page, "evidence-en")
    context.close()
