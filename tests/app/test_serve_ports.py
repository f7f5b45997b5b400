"""``serve`` and its ports: a taken port is one clear line and exit 2, a stranger's Prefect server is
never used, and forwarded headers are believed only from configured proxies."""

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from app.prefect_server import ForeignServer, PortTaken, PrefectServer, _check_is_ours, start_prefect_server
from app.serve import web_config
from flows.settings import Settings
from tests.factories import REPO


class _PretendPrefect(http.server.BaseHTTPRequestHandler):
    """Someone else's Prefect server: healthy, with its own home folder."""

    def do_GET(self) -> None:
        body = {"/api/health": True, "/api/admin/settings": {"home": "/home/someone/.prefect"}}.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(body).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def other_prefect() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PretendPrefect)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_a_prefect_port_answered_by_another_server_is_refused_before_starting_one(
    other_prefect: int, tmp_path: Path
) -> None:
    started = time.monotonic()
    with pytest.raises(PortTaken, match=rf"127\.0\.0\.1:{other_prefect} .*COMPLAINTFLOW_PREFECT_PORT"):
        start_prefect_server(tmp_path / "prefect", other_prefect)
    assert time.monotonic() - started < 5  # refused at once, not after a server start attempt
    assert not (tmp_path / "prefect" / "server.log").exists()


def test_a_healthy_server_with_another_home_is_not_taken_for_ours(other_prefect: int, tmp_path: Path) -> None:
    # The race the port check cannot close: our server lost the port to someone else after the check.
    ours = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    server = PrefectServer(ours, f"http://127.0.0.1:{other_prefect}/api", tmp_path / "server.log")
    with pytest.raises(ForeignServer, match=r"another Prefect server answers .*/home/someone/\.prefect"):
        _check_is_ours(server, tmp_path / "prefect")
    assert ours.wait(timeout=20) is not None  # ours was stopped, not left behind


def _serve_dev(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    variables = {
        **os.environ,
        "COMPLAINTFLOW_DATA_DIR": str(tmp_path / "var"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", "from app.cli.main import main; main()", "serve", "--dev"],
        capture_output=True, text=True, cwd=REPO, env=variables, stdin=subprocess.DEVNULL,
        timeout=120, check=False,
    )  # fmt: skip


def _one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "is running" not in result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_serve_with_the_web_port_taken_says_so_in_one_line_and_prints_no_passwords(
    taken_port: int, tmp_path: Path
) -> None:
    result = _serve_dev(
        tmp_path, COMPLAINTFLOW_HTTP_PORT=str(taken_port), COMPLAINTFLOW_SMTP_PORT=str(_free())
    )
    line = _one_clear_line(result)
    assert f"127.0.0.1:{taken_port}" in line
    assert "COMPLAINTFLOW_HTTP_PORT" in line
    assert "sign in" not in result.stdout


def test_serve_with_the_prefect_port_taken_says_so_in_one_line(other_prefect: int, tmp_path: Path) -> None:
    result = _serve_dev(
        tmp_path,
        COMPLAINTFLOW_HTTP_PORT=str(_free()),
        COMPLAINTFLOW_SMTP_PORT=str(_free()),
        COMPLAINTFLOW_PREFECT_PORT=str(other_prefect),
    )
    line = _one_clear_line(result)
    assert f"127.0.0.1:{other_prefect}" in line
    assert "COMPLAINTFLOW_PREFECT_PORT" in line


def _free() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _peer(request: Request) -> PlainTextResponse:
    return PlainTextResponse(request.client.host if request.client else "")


def _peer_seen_through(settings: Settings) -> str:
    """Run uvicorn with serve's configuration and ask what address a forged header makes us see."""
    app = Starlette(routes=[Route("/", _peer)])
    port = _free()
    config = web_config(app, settings.model_copy(update={"http_port": port}))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        response = httpx.get(f"http://127.0.0.1:{port}/", headers={"X-Forwarded-For": "203.0.113.9"})
        return response.text
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_forwarded_headers_from_loopback_are_ignored_unless_it_is_a_configured_proxy(tmp_path: Path) -> None:
    plain = Settings(dev=True, data_dir=tmp_path)
    assert _peer_seen_through(plain) == "127.0.0.1"  # rotating the header cannot dodge a rate limit
    behind_proxy = Settings(dev=True, data_dir=tmp_path, trusted_proxies=["127.0.0.1"])
    assert _peer_seen_through(behind_proxy) == "203.0.113.9"
