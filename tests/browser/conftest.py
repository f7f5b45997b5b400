"""Browser fixtures: Debian's Chromium (installed by scripts/chromium if missing) driven by
Playwright, and the Prefect server of the end-to-end tests.

A browser that cannot launch is a failure, never a skip: a green run must mean the journey ran.
"""

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.conftest import prefect_api  # noqa: F401 - re-exported fixture: one Prefect server

CHROMIUM_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "chromium"
# No sandbox: tests run as root in a container; the rest keeps Chromium off the network and quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


# Module scope: while Playwright runs, its event loop is the main thread's running loop, so it must
# stop before later test modules call asyncio.run().
@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    installed = subprocess.run([str(CHROMIUM_SCRIPT)], capture_output=True, text=True, check=False)
    if installed.returncode != 0:
        pytest.fail(f"scripts/chromium could not install Chromium:\n{installed.stderr}", pytrace=False)
    executable = installed.stdout.strip().splitlines()[-1]
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(
                executable_path=executable, args=CHROMIUM_ARGS, headless=True
            )
        except Exception as exc:  # any launch problem fails the run, with its message
            pytest.fail(f"Chromium at {executable} did not launch: {exc}", pytrace=False)
        try:
            yield browser
        finally:
            browser.close()
