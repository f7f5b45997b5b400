"""The FastAPI application: composes the routers and hands them the running system."""

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from app.web import (
    account_admin,
    account_pages,
    api,
    auth,
    dashboard_pages,
    dev_mail,
    forms,
    limits,
    link_pages,
    policy_pages,
    violation_pages,
)
from app.web.context import WebContext
from flows.runtime import Runtime


def create_app(
    runtime: Runtime,
    *,
    kick: Callable[[], None] = lambda: None,
    mail_store: Path | None = None,
) -> FastAPI:
    app = FastAPI(title="complaintflow", version="0.1.0")
    app.state.context = WebContext(runtime=runtime, kick=kick, mail_store=mail_store)
    limits.install(app)  # 413 for oversize bodies (counted as they stream); 422s that always encode
    auth.install(app)  # the localized 403 page for a signed-in account with the wrong role
    app.include_router(api.router)
    app.include_router(link_pages.router)
    app.include_router(forms.router)
    app.include_router(account_pages.router)
    app.include_router(account_admin.router)
    app.include_router(violation_pages.router)
    app.include_router(policy_pages.router)
    app.include_router(dashboard_pages.router)
    app.include_router(dev_mail.router, include_in_schema=False)
    return app
