"""``complaintflow serve`` and ``complaintflow worker``: the runtime as long-lived processes.

``serve`` is the embedded default: SQLite under the data folder, a local Prefect server, a local
SMTP sink whose mail is shown at ``/dev/mail`` (dev mode), the scheduler and the web app, all on
loopback. ``worker`` runs only the scheduler against configured services (scale-out, fault tests).
"""

import asyncio
import contextlib
import logging
import secrets
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator

import uvicorn
from prefect.settings import PREFECT_API_URL, PREFECT_LOGGING_LEVEL, temporary_settings

from app.demo import play_demo
from app.prefect_server import PortTaken, PrefectServer, start_prefect_server
from app.web.application import create_app
from flows.admin.accounts import Role, create_account, find_account
from flows.clock import SystemClock
from flows.runtime.assembly import Runtime, build_runtime, install
from flows.runtime.scheduler import Scheduler
from flows.settings import Settings
from notifiers.outbound.sink import MailSink


class EmbeddedServer(uvicorn.Server):
    """uvicorn inside our loop: our signal handlers stop everything, uvicorn must not take them."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def _prefect(settings: Settings) -> AsyncIterator[str]:
    # One INFO line per run state is noise at this volume and costs time on every run.
    logging.getLogger("prefect").setLevel(logging.WARNING)
    server: PrefectServer | None = None
    url = settings.prefect_api_url
    if url is None:
        home = settings.data_dir.resolve() / "prefect"
        server = await asyncio.to_thread(
            start_prefect_server, home, settings.prefect_port, settings.prefect_database_url
        )
        url = server.url
    try:
        with temporary_settings(updates={PREFECT_API_URL: url, PREFECT_LOGGING_LEVEL: "WARNING"}):
            yield url
    finally:
        if server is not None:
            server.stop()


def dev_accounts(runtime: Runtime) -> list[tuple[str, str]]:
    """Dev mode only: accounts ``admin``, ``auditor`` and ``staff`` if absent, with random passwords
    (returned once, to print). Outside dev mode nothing is created: ``complaintflow accounts add``."""
    created: list[tuple[str, str]] = []
    with runtime.sessions.begin() as session:
        for role in Role:
            if find_account(session, role.value) is None:
                password = secrets.token_urlsafe(12)
                create_account(
                    session, username=role.value, password=password, role=role,
                    display_name=f"Dev {role.value}", now=runtime.clock.now(),
                )  # fmt: skip
                created.append((role.value, password))
    return created


def print_dev_accounts(base: str, created: list[tuple[str, str]]) -> None:
    if created:
        print(f"  sign in:       {base}/login  (new dev accounts, passwords shown only now)")
        for username, password in created:
            print(f"                 {username:<8} {password}")
    else:
        print(f"  sign in:       {base}/login  as admin, auditor or staff (printed when first created;")
        print("                 `complaintflow accounts password USERNAME` sets a new one)")


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


async def run_worker(settings: Settings) -> None:
    """Only the scheduler: wakes due complaints and drains the outbox until SIGTERM."""
    stop = asyncio.Event()
    _stop_on_signals(stop)
    async with _prefect(settings):
        runtime = install(build_runtime(settings, SystemClock()))
        scheduler = Scheduler(
            runtime, poll_seconds=settings.scheduler_poll_seconds, concurrency=settings.run_concurrency
        )
        print(f"worker ready: {settings.database}", flush=True)
        await scheduler.run_forever(stop)


def bind_web_socket(host: str, port: int) -> socket.socket:
    """The web app's listening socket, bound before anything is announced: a taken port is one clear
    ``PortTaken``, not a traceback after "is running" and passwords that would then never work."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is not "taken"
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortTaken(
            f"the web app's port {host}:{port} is already in use ({exc.strerror});"
            " set COMPLAINTFLOW_HTTP_PORT to another port"
        ) from exc
    sock.set_inheritable(True)
    return sock


def web_config(app: object, settings: Settings) -> uvicorn.Config:
    """uvicorn's settings. Forwarded headers are believed only from configured proxies: uvicorn's
    default trusts them from loopback, so anyone connecting locally could pick their own address."""
    trusted = settings.trusted_proxies
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        proxy_headers=bool(trusted),
        forwarded_allow_ips=",".join(trusted) if trusted else "",
    )


async def run_serve(settings: Settings, *, demo: bool = False) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    web_socket = bind_web_socket(settings.http_host, settings.http_port)
    stop = asyncio.Event()
    _stop_on_signals(stop)
    sink = None
    try:
        if settings.sink_enabled:
            store = settings.data_dir / "mail"
            sink = MailSink(host=settings.smtp_host, port=settings.smtp_port, store=store)
            sink.start()
        async with _prefect(settings) as prefect_url:
            runtime = install(build_runtime(settings, SystemClock()))
            await _serve(settings, runtime, stop, prefect_url, sink, web_socket=web_socket, demo=demo)
    finally:
        web_socket.close()
        if sink is not None:
            sink.stop()


async def _serve(
    settings: Settings,
    runtime: Runtime,
    stop: asyncio.Event,
    prefect_url: str,
    sink: MailSink | None,
    *,
    web_socket: socket.socket,
    demo: bool,
) -> None:
    scheduler = Scheduler(
        runtime, poll_seconds=settings.scheduler_poll_seconds, concurrency=settings.run_concurrency
    )
    app = create_app(runtime, kick=scheduler.kick, mail_store=sink.store if sink else None)
    new_accounts = dev_accounts(runtime) if settings.dev else []
    server = EmbeddedServer(web_config(app, settings))
    base = f"http://{settings.http_host}:{settings.http_port}"
    active = runtime.registry.active
    print(f"complaintflow is running (policy {active.policy.id if active else '?'})")
    print(f"  web app:       {base}/docs")
    print(f"  Prefect UI:    {prefect_url.removesuffix('/api')}")
    if sink is not None:
        print(f"  captured mail: {base}/dev/mail  (SMTP sink on {settings.smtp_host}:{sink.port})")
    print(f"  database:      {settings.database}")
    if settings.dev:
        print_dev_accounts(base, new_accounts)
    sys.stdout.flush()
    tasks = [
        asyncio.create_task(scheduler.run_forever(stop)),
        asyncio.create_task(server.serve(sockets=[web_socket])),
    ]
    if demo:
        tasks.append(asyncio.create_task(play_demo(base, sink, stop)))
    await stop.wait()
    server.should_exit = True
    await asyncio.gather(*tasks, return_exceptions=True)
    sys.stdout.flush()
