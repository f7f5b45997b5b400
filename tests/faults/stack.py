"""One fault test's running system: its database, a Prefect API, an SMTP sink, `complaintflow worker`
processes and the web app, all configured alike, as scale-out mode runs them on several machines."""

import asyncio
import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
)
from prefect.client.schemas.objects import FlowRun, StateType
from pydantic import SecretStr

from app.prefect_server import free_port
from flows.admin.accounts import Role, create_account, issue_api_token
from flows.clock import SystemClock
from flows.records import keys as audit_keys
from flows.registry import PolicyRegistry
from flows.settings import Settings
from models.db import make_engine, make_sessions, migrate
from notifiers.outbound.sink import MailSink
from tests.faults.processes import Child, environment, web_app, worker
from tests.runtime_support import AUDIT_KEY, AUDIT_SIGNING_KEY

POLICIES = Path(__file__).resolve().parent / "policies"
SHORT = POLICIES / "short.yaml"  # report due 4 s after hearing; escalated when missed
CALM = POLICIES / "calm.yaml"  # report due in an hour: only the request email in a test's time
SECRET = "faults-secret-" + "k" * 40
PHONE_DESK = "phone-desk"  # the staff account the submitting tools post as (who heard it is staff-only)
PAGE = 200  # flow runs per request: the Prefect server's largest page


@dataclass
class Stack:
    """The processes of one test and where they keep their logs (``home``)."""

    home: Path
    database_url: str
    prefect_api: str
    sink: MailSink
    policy: Path
    token: str  # the API token of the PHONE_DESK staff account, sent with every submission
    web_url: str = ""
    children: list[Child] = field(default_factory=list)

    def environment(self) -> dict[str, str]:
        return environment(
            secret_key=SECRET,
            audit_key=AUDIT_KEY,
            audit_signing_key=AUDIT_SIGNING_KEY,
            data_dir=str(self.home / "var"),
            database_url=self.database_url,
            policy_path=str(self.policy),
            prefect_api_url=self.prefect_api,
            smtp_port=str(self.sink.port),
            # A send to a dead server fails fast, and the outbox's lease follows this
            # (flows/runtime/outbox.py).
            smtp_timeout="2",
            scheduler_poll_seconds="0.2",
            mail_from="complaints@keieikai.example",
        )

    def start(self, *workers: str, nice: int = 0) -> list[Child]:
        """Start the named workers and the web app side by side; return once all are ready."""
        port = free_port()
        env = self.environment()
        children = [worker(name, env, self.home / f"{name}.log", nice=nice) for name in workers]
        children.append(web_app(env, self.home / "web.log", port))
        self.children += children
        for child in children:
            child.wait_ready()
        self.web_url = f"http://127.0.0.1:{port}"
        return children[:-1]

    def stop(self) -> dict[str, int | None]:
        """Stop every child still running (SIGTERM); their exit codes by name."""
        return {child.name: child.stop() for child in self.children if child.running()}

    def flow_runs(self, policy_id: str, *, running: bool = False) -> list[FlowRun]:
        """The policy's flow runs by this stack's workers (only those running now, if asked), read
        back from Prefect; the server is shared, and complaint ids repeat across test databases."""
        ours = {worker_tag(pid) for child in self.children for pid in child.pids}
        runs = asyncio.run(self._flow_runs(policy_id, running))
        return [run for run in runs if ours & set(run.tags)]

    async def _flow_runs(self, policy_id: str, running: bool) -> list[FlowRun]:
        runs: list[FlowRun] = []
        states = (
            FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING])) if running else None
        )
        tags = FlowRunFilterTags(all_=[f"policy:{policy_id}"])
        async with PrefectClient(self.prefect_api) as client:
            while True:
                page = await client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(tags=tags, state=states), limit=PAGE, offset=len(runs)
                )
                runs += page
                if len(page) < PAGE:
                    return runs


def worker_tag(pid: int) -> str:
    """The tag the worker process ``pid`` puts on its flow runs (flows/runtime/complaint_flow.py)."""
    return f"worker:{socket.gethostname()}:{pid}"


def prepare(database_url: str, policy: Path) -> None:
    """Migrate and activate the policy before any process starts, so none of them races to do it."""
    migrate(database_url)
    keys = Settings(
        secret_key=SecretStr(SECRET),
        audit_key=SecretStr(AUDIT_KEY),
        audit_signing_key=SecretStr(AUDIT_SIGNING_KEY),
    )
    audit_keys.install(audit_keys.from_settings(keys))  # the activation is logged in the keyed chain
    engine = make_engine(database_url)
    try:
        PolicyRegistry(make_sessions(engine)).activate(policy)
    finally:
        engine.dispose()


def staff_token(database_url: str) -> str:
    """A staff account on the prepared database and a new API token for it: phone staff's tools need
    one to post who heard a complaint and when."""
    engine = make_engine(database_url)
    now = SystemClock().now()
    try:
        with make_sessions(engine).begin() as session:
            account = create_account(
                session, username=PHONE_DESK, password=SECRET, role=Role.STAFF,
                display_name="Phone desk", now=now,
            )  # fmt: skip
            return issue_api_token(session, account_id=account.id, name="fault-tests", now=now)
    finally:
        engine.dispose()


@contextlib.contextmanager
def running(
    home: Path, database_url: str, prefect_api: str, sink: MailSink, policy: Path = SHORT
) -> Iterator[Stack]:
    """A stack on a prepared database; every child still running is stopped afterwards."""
    prepare(database_url, policy)
    stack = Stack(home, database_url, prefect_api, sink, policy, staff_token(database_url))
    try:
        yield stack
    finally:
        stack.stop()
