"""Starting a local Prefect server for the embedded default (SQLite under the data folder).

Used when no ``prefect_api_url`` is configured. The first start runs Prefect's migrations (14-21 s on
this machine), later starts take 5-6 s; we wait for its health endpoint before running flows.

A port someone else already listens on (a second complaintflow, a Prefect user's own server) is
refused before starting, and the server that answers must be the one we started: its reported home
folder is ours. Otherwise complaintflow would run its flows on a stranger's server.
"""

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from flows.errors import RuntimeProblem

STARTUP_TIMEOUT = 90.0


class PortTaken(RuntimeProblem):
    """A port complaintflow must listen on (web app, local Prefect server) is already in use."""


class ForeignServer(RuntimeProblem):
    """The Prefect server answering on our port is not the one we started."""


@dataclass
class PrefectServer:
    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def prefect_environment(home: Path) -> dict[str, str]:
    """Settings that make in-process flow runs cheap and quiet (see DESIGN.md's measurements)."""
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_CLIENT_CSRF_SUPPORT_ENABLED": "false",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "true",
    }


# Server services complaintflow does not use (it schedules through its own database, not through
# deployments, work pools or automations). Each of them writes to the server's SQLite database on a
# loop, competing with flow-run updates: SQLITE_BUSY there becomes a 503 and a client retry of 2 s+.
IDLE_SERVICES = (
    "SCHEDULER",
    "LATE_RUNS",
    "FOREMAN",
    "PAUSE_EXPIRATIONS",
    "REPOSSESSOR",
    "CANCELLATION_CLEANUP",
    "TRIGGERS",
)


def server_environment(home: Path, database_url: str | None = None) -> dict[str, str]:
    """The server's settings: its own SQLite file under ``home``, or ``database_url`` (PostgreSQL,
    ``postgresql+asyncpg://...``), which does not answer 503 under concurrent runs."""
    env = prefect_environment(home)
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = database_url or f"sqlite+aiosqlite:///{home / 'prefect.db'}"
    env.update({f"PREFECT_SERVER_SERVICES_{name}_ENABLED": "false" for name in IDLE_SERVICES})
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ensure_port_free(host: str, port: int, what: str, setting: str) -> None:
    """Raise ``PortTaken`` naming the setting to change if something listens on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=1):
            pass
    except OSError:
        return
    raise PortTaken(f"{what} port {host}:{port} is already in use; set {setting} to another port")


def start_prefect_server(home: Path, port: int = 4200, database_url: str | None = None) -> PrefectServer:
    ensure_port_free("127.0.0.1", port, "the Prefect server's", "COMPLAINTFLOW_PREFECT_PORT")
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **server_environment(home, database_url)}
    log = home / "server.log"
    handle = log.open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter running Prefect's CLI
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    server = PrefectServer(process, f"http://127.0.0.1:{port}/api", log)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the Prefect server exited with {process.returncode}; see {log}")
        try:
            if httpx.get(f"{server.url}/health", timeout=1).status_code == 200:  # noqa: PLR2004
                _check_is_ours(server, home)
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"the Prefect server did not answer within {STARTUP_TIMEOUT:.0f} s; see {log}")


def _check_is_ours(server: PrefectServer, home: Path) -> None:
    """The answering server reports the home folder it was started with: it must be ``home``."""
    reported = httpx.get(f"{server.url}/admin/settings", timeout=5).json().get("home")
    if server.process.poll() is None and reported is not None and Path(reported).resolve() == home.resolve():
        return
    server.stop()
    raise ForeignServer(
        f"another Prefect server answers on {server.url} (home {reported}), not the one complaintflow"
        " started; set COMPLAINTFLOW_PREFECT_PORT to a free port"
    )
