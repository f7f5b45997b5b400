"""The FastAPI application: composes the routers and hands them the running system."""

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from starlette.types import ASGIApp

from app.web import auth, errors, limits
from app.web import login as account_pages
from app.web.actions import pages as link_pages
from app.web.admin import accounts as account_admin
from app.web.admin import dev_mail
from app.web.admin import mail as mail_failures
from app.web.admin import policies as policy_pages
from app.web.api import routes as api
from app.web.audit import pages as violation_pages
from app.web.context import WebContext
from app.web.dashboard import pages as dashboard_pages
from app.web.headers import SecurityHeaders
from app.web.intake import form as forms
from flows.runtime.assembly import Runtime


class ComplaintflowApp(FastAPI):
    """FastAPI with the security headers wrapped around the whole stack, so that even the plain 500
    Starlette's outermost error middleware sends carries them."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def create_app(
    runtime: Runtime,
    *,
    kick: Callable[[], None] = lambda: None,
    mail_store: Path | None = None,
) -> FastAPI:
    app = ComplaintflowApp(title="complaintflow", version="0.1.0")
    app.state.context = WebContext(runtime=runtime, kick=kick, mail_store=mail_store)
    limits.install(
        app, is_page=lambda path: not errors.reads_json(path)
    )  # 413 for oversize bodies (counted as they stream); 422s that always encode
    auth.install(app)  # the localized 403 page for a signed-in account with the wrong role
    errors.install(app)  # after limits: pages get the localized error page, JSON routes what limits gives
    app.include_router(api.router)
    app.include_router(link_pages.router)
    app.include_router(forms.router)
    app.include_router(account_pages.router)
    app.include_router(account_admin.router)
    app.include_router(violation_pages.router)
    app.include_router(policy_pages.router)
    app.include_router(dashboard_pages.router)
    app.include_router(mail_failures.router)
    app.include_router(dev_mail.router, include_in_schema=False)
    return app
