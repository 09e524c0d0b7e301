"""What every page shares: templates, the session of a request, CSRF checks, flash messages."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from adapters.store.auth import key_role_by_id
from api.auth_db import key_role, token_premise
from api.deps import Resident, connection, get_services
from api.state import Services
from api.web import labels
from api.web.session import ANONYMOUS, COOKIE, FLASH, OPERATOR, RESIDENT, Sealer, Session
from api.web.settings import WebSettings

HERE = Path(__file__).resolve().parent
# Scripts and styles only from our own origin (the chart library is vendored): an injected
# inline script would not run even if escaping failed somewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass(slots=True)
class WebState:
    sealer: Sealer
    settings: WebSettings
    templates: Jinja2Templates
    timezone: ZoneInfo


def make_templates(tz: ZoneInfo) -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    env = templates.env
    env.filters.update(
        money=labels.money,
        num=labels.number,
        vol=labels.volume,
        service_vol=labels.service_volume,
        pct=labels.percent,
        period=labels.period_name,
        when=lambda ts: labels.local_time(ts, tz),
        service=lambda s: labels.SERVICES.get(s, s),
        unit=lambda u: labels.UNITS.get(u, u),
        method=lambda m: labels.METHODS.get(m, m),
        reason=lambda r: labels.REASONS.get(r, r),
        flag=lambda f: labels.FLAGS.get(f, f),
    )
    return templates


def web(request: Request) -> WebState:
    state: WebState = request.app.state.web
    return state


class LoginRequired(Exception):
    """Turned into a redirect to the right login page (see ``install``)."""

    def __init__(self, login_path: str, next_path: str) -> None:
        super().__init__(login_path)
        self.login_path = login_path
        self.next_path = next_path


class Forbidden(Exception):
    """An HTML 403/404 page; ``status`` 404 when the thing must not be confirmed to exist."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def session_of(request: Request) -> Session | None:
    cached = getattr(request.state, "web_session", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    session = web(request).sealer.session(request.cookies.get(COOKIE))
    request.state.web_session = session
    return session


async def current_resident(request: Request) -> tuple[Session, Resident]:
    """The logged-in resident, checked against the store (a password reset ends sessions)."""
    session = session_of(request)
    if session is None or session.kind != RESIDENT:
        raise LoginRequired("/login", request.url.path)
    services = get_services(request)
    premise = services.tokens.get(session.account, session.version)
    if premise is None:
        async with connection(services, "check token") as conn:
            premise = await token_premise(conn, session.account, session.version)
        if premise is None:
            raise LoginRequired("/login", request.url.path)
        services.tokens.put(session.account, session.version, premise)
    return session, Resident(session.account, premise)


async def current_operator(request: Request) -> tuple[Session, str]:
    """The operator session and its role (``viewer`` or ``operator``); a revoked key ends it."""
    session = session_of(request)
    if session is None or session.kind != OPERATOR:
        raise LoginRequired("/operator/login", request.url.path)
    services = get_services(request)
    async with connection(services, "check session key") as conn:
        role = await key_role_by_id(conn, session.key_id)
    if role is None:
        raise LoginRequired("/operator/login", request.url.path)
    return session, str(role)


async def checked_form(request: Request, session: Session | None) -> dict[str, str]:
    """The posted form, after the CSRF token and the origin are checked (403 otherwise)."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise Forbidden(403, "Запрос пришёл с другого сайта и отклонён")
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    token = fields.get("csrf", "")
    if session is None or not token or not hmac.compare_digest(token, session.csrf):
        raise Forbidden(403, "Форма устарела: обновите страницу и отправьте её ещё раз")
    return fields


def cookie_secure(request: Request) -> bool:
    mode = web(request).settings.secure_cookie
    return mode == "always" or (mode == "auto" and request.url.scheme == "https")


def set_session(request: Request, response: Response, session: Session) -> None:
    state = web(request)
    response.set_cookie(
        COOKIE,
        state.sealer.seal_session(session),
        max_age=state.settings.session_ttl_s,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        path="/",
    )


def clear_session(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="lax", secure=cookie_secure(request)
    )


def flash(request: Request, response: Response, kind: str, text: str, **extra: object) -> None:
    """A message for the next page (after a redirect): ok, warn or error."""
    value = web(request).sealer.seal({"kind": kind, "text": text, **extra})
    response.set_cookie(
        FLASH, value, max_age=120, httponly=True, samesite="lax",
        secure=cookie_secure(request), path="/",
    )  # fmt: skip


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    session: Session | None = None,
) -> HTMLResponse:
    """Renders a page; gives an anonymous session (for the CSRF token) to a visitor without one.

    A pending flash message is shown once and its cookie dropped.
    """
    state = web(request)
    current = session or session_of(request)
    fresh = current is None
    if current is None:
        current = Session.anonymous(state.settings.session_ttl_s)
    message = state.sealer.open(request.cookies.get(FLASH))
    response = state.templates.TemplateResponse(
        request,
        name,
        {"csrf": current.csrf, "session": current, "flash": message, **context},
        status_code=status,
        headers=SECURITY_HEADERS,
    )
    if fresh or session is not None:
        set_session(request, response, current)
    if FLASH in request.cookies:
        response.delete_cookie(FLASH, path="/")
    return response


def login_redirect(exc: LoginRequired) -> RedirectResponse:
    return redirect(f"{exc.login_path}?next={quote(exc.next_path)}")


def safe_next(value: str | None, default: str) -> str:
    """Only a local path (no scheme, no host): a login must not send anyone elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value


def services_of(request: Request) -> Services:
    return get_services(request)


__all__ = [
    "ANONYMOUS",
    "Forbidden",
    "LoginRequired",
    "WebState",
    "checked_form",
    "current_operator",
    "current_resident",
    "flash",
    "key_role",
    "make_templates",
    "redirect",
    "render",
    "safe_next",
    "session_of",
    "set_session",
]
