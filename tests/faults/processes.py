"""Child processes of the fault tests (`complaintflow worker`s, the web app alone) and waiting in real
seconds for what they do: these tests kill and restart real processes, so no fake clock reaches them.
"""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.factories import REPO

START_SECONDS = 90.0  # importing Prefect and migrating, on a loaded 2-core machine


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> float:
    """Poll ``condition`` until it holds; return how long it took. Fails naming ``what`` on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if condition():
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")


class Child:
    """One child process writing to its own log file: ``launch`` starts it, ``wait_ready`` waits until
    its ``ready`` check holds, ``kill`` and ``restart`` are the faults."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self._log_start = 0
        self.pids: list[int] = []  # every process this child has been, restarts included
        self._ready: Callable[[Child], bool] = lambda _: True

    @property
    def pid(self) -> int:
        assert self.process is not None, f"{self.name} was never started"
        return self.process.pid

    def launch(self, ready: Callable[["Child"], bool]) -> "Child":
        """Start the process without waiting; ``wait_ready`` waits for ``ready()``."""
        self._ready = ready
        self._log_start = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(
                self.argv,
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.pids.append(self.process.pid)
        return self

    def wait_ready(self) -> "Child":
        wait_for(lambda: self._alive() and self._ready(self), START_SECONDS, f"{self.name} to start")
        return self

    def restart(self) -> "Child":
        """Start it again after a kill, with the same command, environment and log."""
        return self.launch(self._ready).wait_ready()

    def output(self) -> str:
        """What this run of the process wrote (a restarted child appends to the same log)."""
        if not self.log.exists():
            return ""
        with self.log.open("rb") as handle:
            handle.seek(self._log_start)
            return handle.read().decode(errors="replace")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye; what it held (leases, claimed mail) is left behind."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int | None:
        """SIGTERM and wait; the exit code, or None if it had to be killed (or never ran)."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def _alive(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            tail = self.output()[-3000:]
            raise AssertionError(f"{self.name} exited with {self.process.returncode}:\n{tail}")
        return True


def worker(name: str, env: dict[str, str], log: Path, *, nice: int = 0) -> Child:
    """A `complaintflow worker` (the scheduler alone), launched; ready once it says so. ``nice`` lowers
    its CPU priority below the web app's (docs/scale-out.md: sharing a machine with the web app)."""
    argv = [sys.executable, "-c", "from app.cli.main import main; main()", "worker"]
    if nice:
        argv = ["nice", "-n", str(nice), *argv]
    return Child(name, argv, env, log).launch(lambda child: "worker ready" in child.output())


def web_app(env: dict[str, str], log: Path, port: int) -> Child:
    """The web app alone (tests/faults/web_app.py), launched; ready once it answers on ``port``."""
    argv = [sys.executable, "-m", "tests.faults.web_app", str(port)]
    return Child("web app", argv, env, log).launch(lambda _: _healthy(f"http://127.0.0.1:{port}"))


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def environment(**settings: str) -> dict[str, str]:
    """This process's environment plus ``COMPLAINTFLOW_<NAME>`` for each setting given."""
    return {
        **os.environ,
        **{f"COMPLAINTFLOW_{name.upper()}": value for name, value in settings.items()},
        "PREFECT_LOGGING_TO_API_ENABLED": "false",
    }
