"""The operator dashboard: ingestion health, anomalies, house balances, unbound meters.

Login with an API key (``uchet apikeys create``): role ``viewer`` sees the pages, ``operator``
may also bind meters and replay their quarantine.
"""

from __future__ import annotations

import math

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from adapters.store.exclusions import list_exclusions
from adapters.vee_store import list_anomalies
from api.auth_db import key_role
from api.deps import Operator, ascii_int, connection
from api.problems import ProblemError
from api.routes import operator_meters
from api.web import dashboard_data as data
from api.web.common import (
    Forbidden,
    checked_form,
    current_operator,
    flash,
    redirect,
    render,
    safe_next,
    services_of,
    session_of,
    set_session,
    web,
)
from api.web.session import OPERATOR

router = APIRouter(prefix="/operator", include_in_schema=False)
CHARTED_HOUSES = 4


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "operator_login.html", {"next": safe_next(next, "/operator")})


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    session = session_of(request)
    form = await checked_form(request, session)
    assert session is not None
    key = form.get("api_key", "").strip()
    target = safe_next(form.get("next"), "/operator")
    if not target.startswith("/operator"):
        target = "/operator"
    context: dict[str, object] = {"next": target}
    if not key:
        context["error"] = "Введите ключ доступа"
        return render(request, "operator_login.html", context, status=422)
    services = services_of(request)
    client = request.client.host if request.client else "-"
    wait = services.login_limiter.hit("k:" + client)
    if wait:
        context["error"] = f"Слишком много попыток входа. Попробуйте через {math.ceil(wait)} с"
        return render(request, "operator_login.html", context, status=429)
    async with connection(services, "check api key") as conn:
        found = await key_role(conn, key)
    if found is None:
        context["error"] = "Ключ не найден или отозван"
        return render(request, "operator_login.html", context, status=401)
    fresh = session.login(web(request).settings.session_ttl_s, kind=OPERATOR, key_id=found[0])
    response = redirect(target)
    set_session(request, response, fresh)
    return response


@router.get("", response_class=HTMLResponse)
async def dashboard(request: Request) -> Response:
    _, role = await current_operator(request)
    services = services_of(request)
    hours = web(request).settings.offline_hours
    async with connection(services, "dashboard") as conn:
        health = await data.source_health(conn, hours)
        offline = await data.offline_meters(conn, hours, limit=20)
        houses = await data.house_imbalances(conn, limit=20)
        anomalies = await list_anomalies(conn, limit=20)
        exclusions = await list_exclusions(conn, limit=20)
        charts = [
            (h, data.balance_chart(await data.house_balance_days(conn, h.house, h.service)))
            for h in [h for h in houses if h.ratio is not None][:CHARTED_HOUSES]
        ]  # only houses whose balance compares like with like
    return render(
        request,
        "dashboard.html",
        {
            "role": role,
            "health": health,
            "offline": offline,
            "offline_hours": hours,
            "houses": houses,
            "units": {h.service: data.unit_of(h.service) for h in houses},
            "charts": charts,
            "anomalies": data.anomaly_rows(anomalies, web(request).timezone),
            "exclusions": exclusions,
        },
    )


@router.get("/houses/{house}", response_class=HTMLResponse)
async def house_page(request: Request, house: str, service: str = "electricity") -> Response:
    _, role = await current_operator(request)
    services = services_of(request)
    async with connection(services, "house page") as conn:
        address = await data.house_address(conn, house)
        days = await data.house_balance_days(conn, house, service[:64], days=366)
        anomalies = await list_anomalies(conn, house=house[:200], limit=100)
    if address is None and not days:
        raise Forbidden(404, "Дом не найден")
    return render(
        request,
        "house.html",
        {
            "role": role,
            "house": house,
            "address": address,
            "service": service,
            "days": days,
            "chart": data.balance_chart(days),
            "unit": data.unit_of(service),
            "anomalies": data.anomaly_rows(anomalies, web(request).timezone),
        },
    )


@router.get("/meters", response_class=HTMLResponse)
async def unbound_meters(request: Request) -> Response:
    session, role = await current_operator(request)
    operator = Operator(session.key_id, role)
    meters = await operator_meters.list_meters(
        operator, services_of(request), unbound=True, premise=None, limit=500, offset=0
    )
    return render(request, "meters.html", {"role": role, "meters": meters})


async def _operator_form(request: Request) -> tuple[Operator, dict[str, str]]:
    session, role = await current_operator(request)
    form = await checked_form(request, session)
    if role != "operator":
        raise Forbidden(403, "Ключ с ролью «просмотр» не может изменять данные")
    return Operator(session.key_id, role), form


def _meter_id(text: str) -> int:
    found = ascii_int(text)
    if found is None:
        raise Forbidden(404, "Счётчик не найден")
    return found


def _replay_text(report: operator_meters.ReplayResult) -> str:
    still = sum(report.still_quarantined.values())
    return (
        f"Повторная обработка: {report.replayed} из карантина, сохранено {report.stored}, "
        f"дубликатов {report.duplicates}, конфликтов {report.conflicts}, "
        f"осталось в карантине {still}"
    )


@router.post("/meters/{meter_id}/bind")
async def bind(request: Request, meter_id: str) -> Response:
    operator, form = await _operator_form(request)
    back = redirect("/operator/meters")
    target, kind = form.get("target", "").strip(), form.get("kind", "premise")
    try:
        body = operator_meters.BindRequest(
            premise=target if kind == "premise" else None,
            house=target if kind == "house" else None,
        )
        result = await operator_meters.bind(
            _meter_id(meter_id), body, operator, services_of(request)
        )
    except ValidationError:
        flash(request, back, "error", "Укажите номер помещения или дома")
        return back
    except ProblemError as exc:
        missing = (
            f"Помещение «{target}» не найдено"
            if kind == "premise"
            else (f"Дом «{target}» не найден")
        )
        text = missing if exc.status == 404 else (exc.detail or exc.slug)
        if "meter" in (exc.detail or ""):
            text = "Счётчик не найден"
        flash(request, back, "error", text)
        return back
    where = result.meter.premise or result.meter.house
    flash(
        request, back, "ok",
        f"Счётчик {result.meter.serial} привязан к {where}. " + _replay_text(result.replay),
    )  # fmt: skip
    return back


@router.post("/meters/{meter_id}/replay")
async def replay(request: Request, meter_id: str) -> Response:
    operator, _ = await _operator_form(request)
    back = redirect("/operator/meters")
    report = await operator_meters.replay_quarantine(
        operator_meters.ReplayRequest(meter_ids=[_meter_id(meter_id)]),
        operator,
        services_of(request),
    )
    flash(request, back, "ok", _replay_text(report))
    return back
