"""A patient's complaint, end to end in a real browser: Debian's Chromium via Playwright, a real
uvicorn server, SQLite, Prefect flow runs and the aiosmtpd sink.

The patient writes in Japanese → receipt page with the tracking number → the first hearer's
supervisor gets the request email → the test opens its action link in the browser and records the
report → the next step's email arrives. Screenshots go to artifacts/screenshots/.
"""

import asyncio
import contextvars
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, FilePayload, Page, expect

from app.prefect_server import free_port
from app.web.application import create_app
from flows.clock import FakeClock
from flows.runtime.assembly import Runtime
from flows.runtime.scheduler import Scheduler
from models.db import migrate
from notifiers.outbound.sink import MailSink
from tests.factories import REPO
from tests.runtime_support import START, action_paths, make_runtime

POLICY = Path(__file__).parent / "policies" / "web_chain.yaml"
SHOTS = REPO / "artifacts" / "screenshots"
SUPERVISOR = "kobayashi@keieikai.example"  # 小林 院長, supervisor of 渡辺 (reception, the first hearer)
PATIENT = "patient@example.jp"


class _Server:
    """uvicorn in a thread on a free loopback port, stopped by flag (no signals in a thread)."""

    def __init__(self, runtime: Runtime, scheduler: Scheduler) -> None:
        self.port = free_port()
        app = create_app(runtime, kick=scheduler.kick)
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
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
def journey(
    prefect_api: str, tmp_path: Path, sink: MailSink
) -> Iterator[tuple[_Server, Scheduler, FakeClock]]:
    url = f"sqlite:///{tmp_path / 'browser.db'}"
    migrate(url)
    clock = FakeClock(START)
    runtime = make_runtime(url, sink, clock, policy=POLICY)
    scheduler = Scheduler(runtime, poll_seconds=0.1)
    with _Server(runtime, scheduler) as server:
        yield server, scheduler, clock


def _tick(scheduler: Scheduler) -> int:
    # Playwright's sync API owns this thread's event loop; the tick gets its own thread and loop,
    # with this context so it sees the Prefect settings of the prefect_api fixture.
    context = contextvars.copy_context()
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(context.run, asyncio.run, scheduler.tick()).result(timeout=120)


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_patient_complaint_in_japanese_reaches_the_supervisor_and_moves_on(
    chromium: Browser, journey: tuple[_Server, Scheduler, FakeClock], sink: MailSink
) -> None:
    server, scheduler, clock = journey
    context = chromium.new_context(locale="ja-JP", viewport={"width": 420, "height": 900})  # a phone
    page = context.new_page()

    # The patient fills in the form, in Japanese, chosen from the browser's Accept-Language.
    page.goto(f"{server.url}/complaints/new")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("ご意見・苦情の受付")
    page.get_by_label("内容の種類").select_option("attitude")
    page.get_by_label("件名(任意)").fill("受付での対応について")
    page.get_by_label("どのようなことがありましたか").fill(
        "本日10時ごろ受付で長時間待たされ、説明もありませんでした。<b>改善</b>をお願いします。"
    )
    page.get_by_label("添付ファイル(任意)").set_input_files(
        files=[FilePayload(name="待合室.txt", mimeType="text/plain", buffer="メモ".encode())]
    )
    page.get_by_label("お名前").fill("山田 花子")
    page.get_by_label("メールアドレス").fill(PATIENT)
    page.get_by_label("個人情報の取り扱いを読み、同意します。").focus()
    page.keyboard.press("Space")  # the consent checkbox works from the keyboard
    expect(page.get_by_label("個人情報の取り扱いを読み、同意します。")).to_be_checked()
    _shot(page, "01-form-filled")
    page.get_by_role("button", name="送信する").click()

    # The receipt page shows the tracking number and the private status link.
    expect(page.get_by_role("heading", level=1)).to_have_text("受け付けました")
    tracking = page.locator("#tracking-number").inner_text()
    assert re.fullmatch(r"2026-\d{6}", tracking)
    expect(page.locator("pre")).to_contain_text("<b>改善</b>")  # shown as text, not markup
    status_url = page.locator("#status-link").get_attribute("href")
    assert status_url
    _shot(page, "02-receipt")

    # The scheduler runs the complaint through its Prefect flow: the supervisor is asked to report.
    assert _tick(scheduler) == 1
    [link] = action_paths(sink, SUPERVISOR, "supervisor_consults_top")
    assert any(PATIENT in m.envelope_to for m in sink.messages()), "no receipt email to the patient"

    # The supervisor opens the link from the email, chooses the recipient and records the report.
    staff = chromium.new_context(locale="ja-JP").new_page()
    staff.goto(server.url + link)
    expect(staff.get_by_role("heading", level=1)).to_have_text("このステップを記録する")
    expect(staff.locator("main")).to_contain_text("上司が社長か担当役員へ報告・相談")
    expect(staff.locator("main")).to_contain_text("小林 院長")  # the owner by name, not by directory id
    staff.get_by_label("報告先").select_option("ito")
    staff.get_by_label("メモ(任意)").fill("電話で相談済み")
    _shot(staff, "03-action-page")
    staff.get_by_role("button", name="記録する").click()
    expect(staff.get_by_role("status")).to_have_text("記録しました。ありがとうございました。")
    _shot(staff, "04-action-done")

    # The next step's email arrives once the report is recorded.
    clock.advance(timedelta(minutes=5))
    assert _tick(scheduler) == 1
    assert action_paths(sink, SUPERVISOR, "apology_call"), "the next step's email did not arrive"

    # The patient's status link shows the step in plain words, and no staff names.
    page.goto(server.url + status_url)
    expect(page.locator("#tracking-number")).to_have_text(tracking)
    expect(page.locator("main")).to_contain_text("上司が社長か担当役員へ報告・相談")
    for hidden in ("小林", "伊藤", "渡辺", "電話で相談済み"):
        expect(page.locator("main")).not_to_contain_text(hidden)
    _shot(page, "05-status")
    context.close()
