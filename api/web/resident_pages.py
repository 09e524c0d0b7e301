"""The resident cabinet (личный кабинет): login, meters, submitting a reading, history, charges.

Data comes through the API's own route functions, so a page sees exactly what the API would
show the same resident (bound to the session's premise; another premise's meter is "not found").
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from adapters.store.sessions import end_sessions
from api.auth_db import find_login
from api.deps import PERIOD, Resident, ascii_int, connection
from api.problems import ProblemError
from api.routes import resident_accruals, resident_meters
from api.schemas import Me, MeterOut, PeriodAccruals, SubmitReading
from api.security import verify_password
from api.web import labels
from api.web.common import (
    Forbidden,
    checked_form,
    clear_session,
    current_resident,
    flash,
    redirect,
    render,
    safe_next,
    services_of,
    session_of,
    set_session,
    web,
)
from api.web.session import RESIDENT
from core.channels import CANONICAL_UNIT

router = APIRouter(include_in_schema=False)


@router.get("/")
async def home(request: Request) -> Response:
    session = session_of(request)
    if session is not None and session.kind == "operator":
        return redirect("/operator")
    return redirect("/cabinet")


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": safe_next(next, "/cabinet"), "account": ""})


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    session = session_of(request)
    form = await checked_form(request, session)
    assert session is not None
    account, password = form.get("account", "").strip(), form.get("password", "")
    target = safe_next(form.get("next"), "/cabinet")
    context = {"next": target, "account": account}
    if not account or not password:
        context["error"] = "Введите номер лицевого счёта и пароль"
        return render(request, "login.html", context, status=422)
    services = services_of(request)
    client = request.client.host if request.client else "-"
    wait = max(
        services.login_limiter.hit("a:" + account), services.login_limiter.hit("c:" + client)
    )
    if wait:
        context["error"] = f"Слишком много попыток входа. Попробуйте через {math.ceil(wait)} с"
        return render(request, "login.html", context, status=429)
    async with connection(services, "find login") as conn:
        found = await find_login(conn, account)
    ok = await verify_password(found.password_hash if found else None, password)
    if not ok or found is None:
        context["error"] = "Неверный номер лицевого счёта или пароль"
        return render(request, "login.html", context, status=401)
    fresh = session.login(
        web(request).settings.session_ttl_s,
        kind=RESIDENT,
        account=account,
        version=found.token_version,
    )
    response = redirect(target)
    set_session(request, response, fresh)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = session_of(request)
    await checked_form(request, session)
    operator = session is not None and session.kind == "operator"
    if session is not None and session.kind == RESIDENT and session.account:
        # On the server too: a saved copy of the cookie must not keep working.
        services = services_of(request)
        async with connection(services, "logout") as conn:
            await end_sessions(conn, session.account)
        services.tokens.drop(session.account)
    response = redirect("/operator/login" if operator else "/login")
    clear_session(request, response)
    return response


def _window_text(request: Request) -> tuple[str, bool]:
    settings = services_of(request).settings
    window = settings.window()
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    open_now = settings.in_window(today, window)
    if window is None:
        return "Показания принимаются в любой день месяца", True
    text = f"Показания принимаются с {window[0]} по {window[1]} число каждого месяца"
    return text + (" — сейчас приём открыт" if open_now else " — сейчас приём закрыт"), open_now


async def _me(request: Request, resident: Resident) -> Me:
    try:
        return await resident_meters.me(resident, services_of(request))
    except ProblemError as exc:
        raise Forbidden(404, "Помещение не найдено") from exc


def _consumption(periods: list[PeriodAccruals]) -> list[dict[str, object]]:
    """Monthly volume per service from the individual accrual lines, oldest month first: one
    chart per unit (m³ and kWh on one axis would hide the water bars)."""
    months = sorted({p.period for p in periods})
    series: dict[str, dict[str, Decimal]] = {}
    for p in periods:
        for line in p.lines:
            if line.method in labels.INDIVIDUAL and line.method != "water_sum":
                per = series.setdefault(line.service, {})
                per[p.period] = per.get(p.period, Decimal(0)) + Decimal(line.volume)
    charts: list[dict[str, object]] = []
    for unit, name in labels.UNITS.items():
        services = [s for s in sorted(series) if CANONICAL_UNIT.get(s) == unit]
        if not services:
            continue
        places = labels.PLACES[unit]
        charts.append(
            {
                "id": f"consumption-{unit}",
                "unit": name,
                "labels": [labels.period_name(m) for m in months],
                "datasets": [
                    {
                        "label": labels.SERVICES.get(s, s),
                        # Chart points only: the exact volumes are in the table of charges.
                        "data": [round(float(series[s].get(m, 0)), places) for m in months],
                    }
                    for s in services
                ],
            }
        )
    return charts


def _place(me: Me) -> str:
    """The premise as its resident knows it: the address and number, not the registry id."""
    where = me.address or f"дом {me.house}"
    return f"{where}, помещение № {labels.premise_number(me.premise, me.house)}"


@router.get("/cabinet", response_class=HTMLResponse)
async def cabinet(request: Request) -> Response:
    _, resident = await current_resident(request)
    services = services_of(request)
    me = await _me(request, resident)
    meters = await resident_meters.meters(resident, services)
    periods = await resident_accruals.accruals(resident, services, period=None, limit=12)
    window, open_now = _window_text(request)
    return render(
        request,
        "cabinet.html",
        {
            "me": me,
            "place": _place(me),
            "meters": meters,
            "window": window,
            "open_now": open_now,
            "latest": periods[0] if periods else None,
            "charts": _consumption(periods),
        },
    )


async def _meter_or_404(request: Request, resident: Resident, meter_id: str) -> MeterOut:
    services = services_of(request)
    wanted = ascii_int(meter_id)
    if wanted is None:
        raise Forbidden(404, "Счётчик не найден")
    for meter in await resident_meters.meters(resident, services):
        if meter.id == wanted:
            return meter
    raise Forbidden(404, "Счётчик не найден")


@router.get("/cabinet/meters/{meter_id}", response_class=HTMLResponse)
async def meter_page(request: Request, meter_id: str) -> Response:
    _, resident = await current_resident(request)
    meter = await _meter_or_404(request, resident, meter_id)
    history = await resident_meters.history(
        int(meter_id), resident, services_of(request), before=None, limit=50
    )
    window, open_now = _window_text(request)
    return render(
        request,
        "meter.html",
        {"meter": meter, "history": history, "window": window, "open_now": open_now},
    )


_VALUE = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,9})?")


def parse_value(text: str) -> float | None:
    """A register value as a resident types it: ``123,45`` or ``123.45``, spaces allowed."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not _VALUE.fullmatch(cleaned):  # ASCII digits: float() reads "３" as 3, "1_0" as 10
        return None
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@router.post("/cabinet/meters/{meter_id}/readings")
async def submit(request: Request, meter_id: str) -> Response:
    session, resident = await current_resident(request)
    form = await checked_form(request, session)
    meter = await _meter_or_404(request, resident, meter_id)
    back = redirect(f"/cabinet/meters/{int(meter_id)}")
    text = form.get("value", "")
    value = parse_value(text)
    if value is None:
        flash(request, back, "error", "Введите показание числом, например 123,45", value=text)
        return back
    try:
        body = SubmitReading(value=value)
    except ValidationError:
        flash(request, back, "error", "Такое показание счётчик показать не может", value=text)
        return back
    try:
        result = await resident_meters.submit(
            int(meter_id), body, resident, services_of(request), Response()
        )
    except ProblemError as exc:
        reason = exc.extra.get("reason")
        note = labels.REASONS.get(str(reason), "") if reason else ""
        detail = exc.detail or "Показание не принято"
        text_out = f"Показание не принято. {detail}" + (f" (причина: {note})" if note else "")
        flash(request, back, "error", text_out, value=text)
        return back
    shown = labels.volume(result.value, meter.unit)
    if result.status == "accepted":
        flash(request, back, "ok", f"Показание {shown} принято. Спасибо!")
    elif result.status == "duplicate":
        flash(request, back, "ok", f"Показание {shown} уже было принято раньше")
    else:
        flash(request, back, "warn", f"Показание {shown}: {result.detail or 'принято с отметкой'}")
    return back


@router.get("/cabinet/charges", response_class=HTMLResponse)
async def charges(request: Request, period: str | None = None) -> Response:
    _, resident = await current_resident(request)
    if period is not None and not re.fullmatch(PERIOD, period):
        period = None
    services = services_of(request)
    periods = await resident_accruals.accruals(resident, services, period=period, limit=12)
    me = await _me(request, resident)
    return render(
        request,
        "charges.html",
        {
            "periods": periods,
            "charts": _consumption(periods),
            "place": _place(me),
            "me": me,
            "units": {s: labels.UNITS[u] for s, u in CANONICAL_UNIT.items()},
        },
    )
