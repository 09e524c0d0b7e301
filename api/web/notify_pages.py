"""Notification pages (issue #21): the resident's channels and choices (a kind × channel
grid, an e-mail that must be confirmed by the link sent to it) and the operator's log of what
was sent, failed, dead-lettered or bounced, and why. Through the API's own route functions
(api.routes.notify)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from adapters.store.notify_prefs import bounces
from adapters.store.outbox import counts_by_state
from api.deps import ascii_int, connection
from api.problems import ProblemError
from api.routes import notify
from api.web.common import (
    checked_form,
    current_operator,
    current_resident,
    flash,
    redirect,
    render,
    services_of,
    session_of,
)
from core.notify.kinds import ALL_KINDS, CHANNEL_NAMES, CHANNELS, KINDS

router = APIRouter(include_in_schema=False)
HERE = "/cabinet/notifications"
PAGE_SIZE = 50
STATE_NAMES = {
    "sent": "отправлено",
    "failed": "ошибка, повтор",
    "dead": "не доставлено",
    "bounced": "отказ адреса (bounce)",
    "waiting": "в очереди",
}


@router.get(HERE, response_class=HTMLResponse)
async def preferences(request: Request) -> Response:
    _, resident = await current_resident(request)
    p = await notify.read_preferences(resident, services_of(request))
    enabled = {(c.channel, c.kind): c.enabled for c in p.choices}
    return render(
        request,
        "notify_prefs.html",
        {"p": p, "kinds": KINDS, "channels": CHANNEL_NAMES, "enabled": enabled},
    )


@router.post(HERE)
async def save(request: Request) -> Response:
    session, resident = await current_resident(request)
    form = await checked_form(request, session)
    back = redirect(HERE)
    choices = [
        notify.Choice(kind=k, channel=c, enabled=form.get(f"{c}:{k}") == "on")
        for k in KINDS
        for c in CHANNELS
    ]
    try:
        body = notify.PreferencesIn(email=form.get("email", "").strip() or None, choices=choices)
    except ValidationError:
        flash(request, back, "error", "Адрес e-mail указан неверно, например ivanov@mail.ru")
        return back
    try:
        p = await notify.save_preferences(body, resident, services_of(request))
    except ProblemError as exc:
        if exc.status not in (429, 503):
            raise
        flash(request, back, "error", f"Настройки не сохранены. {exc.detail}")
        return back
    if p.confirmation_sent:
        text = f"Настройки сохранены. На {body.email} отправлено письмо со ссылкой: откройте её, "
        text += "чтобы получать уведомления"
        flash(request, back, "warn", text)
    else:
        flash(request, back, "ok", "Настройки уведомлений сохранены")
    return back


@router.post(HERE + "/resend")
async def resend(request: Request) -> Response:
    session, resident = await current_resident(request)
    await checked_form(request, session)
    back = redirect(HERE)
    try:
        again = await notify.resend_confirmation(resident, services_of(request))
    except ProblemError as exc:
        if exc.status not in (429, 503):
            raise
        flash(request, back, "error", f"Письмо не отправлено. {exc.detail}")
        return back
    if again:
        flash(request, back, "ok", "Письмо со ссылкой для подтверждения отправлено ещё раз")
    else:
        flash(request, back, "warn", "Нечего подтверждать: адрес не указан или уже подтверждён")
    return back


@router.get(notify.CONFIRM_PATH, response_class=HTMLResponse)
async def confirm_page(request: Request, token: str = "") -> Response:
    """The link of the e-mail: a button, not the confirmation itself (a mail scanner that
    opens every link must not confirm an address nobody asked for)."""
    token = token[:2000]
    address = notify.token_address(token, services_of(request))
    return render(request, "notify_confirm.html", {"token": token, "address": address})


@router.post(notify.CONFIRM_PATH)
async def confirm(request: Request) -> Response:
    form = await checked_form(request, session_of(request))
    back = redirect(HERE)
    try:
        _, address = await notify.confirm(form.get("token", "")[:2000], services_of(request))
    except ProblemError as exc:
        flash(request, back, "error", exc.detail or "Ссылка недействительна")
        return back
    flash(request, back, "ok", f"Адрес {address} подтверждён: уведомления будут приходить на него")
    return back


@router.get("/operator/notifications", response_class=HTMLResponse)
async def operator_log(
    request: Request,
    status: str = "",
    kind: str = "",
    channel: str = "",
    account: str = "",
    page: str = "1",
) -> Response:
    await current_operator(request)
    shown = {
        "status": status if status in STATE_NAMES else "",
        "kind": kind if kind in ALL_KINDS else "",
        "channel": channel if channel in CHANNELS else "",
        "account": account.strip()[:200],
    }
    number = ascii_int(page, high=1_000_000) or 1
    services = services_of(request)
    log = await notify.outbox_page(
        services, status=shown["status"] or None, kind=shown["kind"] or None,
        channel=shown["channel"] or None, account=shown["account"] or None,
        limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE,
    )  # fmt: skip
    async with connection(services, "notification counts") as conn:
        counts = await counts_by_state(conn)
        recent_bounces = await bounces(conn, limit=20)
    pages = max(1, -(-log.total // PAGE_SIZE))
    query = {k: v for k, v in shown.items() if v}
    return render(
        request,
        "notify_log.html",
        {
            "log": log, "shown": shown, "counts": counts, "states": STATE_NAMES,
            "kinds": ALL_KINDS, "channels": CHANNEL_NAMES, "bounces": recent_bounces,
            "page": number, "pages": pages, "first": (number - 1) * PAGE_SIZE + 1,
            "link": lambda n: "/operator/notifications?" + urlencode({**query, "page": n}),
            "state_link": lambda s: "/operator/notifications?" + urlencode({"status": s}),
        },
    )  # fmt: skip
