"""Running one function from several threads at once, for the tests of concurrent writers."""

import threading
import time
from collections.abc import Callable


def run_together(target: Callable[[], None], threads: int, timeout: float = 60) -> list[BaseException]:
    """Start ``target`` in ``threads`` threads at the same moment; what each raised (none: []).

    A thread still running after ``timeout`` seconds counts as a failure (a deadlock must fail the
    test, not hang the suite); it is a daemon, so it does not keep the test process alive."""
    failures: list[BaseException] = []
    ready = threading.Barrier(threads)

    def run() -> None:
        ready.wait()
        try:
            target()
        except BaseException as exc:  # reported to the caller
            failures.append(exc)

    started = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for thread in started:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in started:
        thread.join(max(0.0, deadline - time.monotonic()))
    stuck = sum(thread.is_alive() for thread in started)
    if stuck:
        failures.append(TimeoutError(f"{stuck} of {threads} threads still running after {timeout} s"))
    return failures
