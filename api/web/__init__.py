"""Web pages served by ``uchet api``: the resident cabinet and the operator dashboard."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from api.settings import ApiSettings
from api.web import (
    claims_pages,
    debtor_pages,
    exclusion_pages,
    ledger_pages,
    notify_pages,
    operator_pages,
    reconcile_pages,
    resident_pages,
)
from api.web.common import (
    HERE,
    SECURITY_HEADERS,
    Forbidden,
    LoginRequired,
    WebState,
    login_redirect,
    make_templates,
    render,
)
from api.web.session import Sealer, derive_key
from api.web.settings import WebSettings


def install(app: FastAPI, settings: ApiSettings, web_settings: WebSettings | None = None) -> None:
    """Adds the pages, their static files and their error pages to the API app."""
    secret = settings.api_secret.get_secret_value() if settings.api_secret else None
    tz = ZoneInfo(settings.timezone)
    app.state.web = WebState(
        Sealer(derive_key(secret)), web_settings or WebSettings.of(settings), make_templates(tz), tz
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(resident_pages.router)
    app.include_router(operator_pages.router)
    app.include_router(exclusion_pages.router)
    app.include_router(ledger_pages.router)
    app.include_router(debtor_pages.router)
    app.include_router(claims_pages.router)
    app.include_router(notify_pages.router)
    app.include_router(reconcile_pages.router)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        return login_redirect(exc)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> HTMLResponse:
        title = "Не найдено" if exc.status == 404 else "Доступ запрещён"
        return render(request, "error.html", {"title": title, "text": exc.text}, status=exc.status)


__all__ = ["SECURITY_HEADERS", "install"]
