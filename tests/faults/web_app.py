"""The web app alone in its own process, as `serve` builds it but with no scheduler, so that every flow
run and email the fault tests count comes from a `complaintflow worker`.

Run: ``python -m tests.faults.web_app PORT`` with the same ``COMPLAINTFLOW_*`` settings as the workers.
"""

import sys

import uvicorn

from app.web.application import create_app
from flows.clock import SystemClock
from flows.records import keys as audit_keys
from flows.runtime.assembly import build_runtime, install
from flows.settings import load_settings


def main(port: int) -> None:
    settings = load_settings()
    audit_keys.install(audit_keys.from_settings(settings))
    runtime = install(build_runtime(settings, SystemClock()))
    # The workers poll the database (COMPLAINTFLOW_SCHEDULER_POLL_SECONDS), so no kick is needed.
    uvicorn.run(create_app(runtime), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main(int(sys.argv[1]))
