"""The operator dashboard: ingestion health, anomalies, house balances, unbound meters.

Login with an API key (``uchet apikeys create``): role ``viewer`` sees the pages, ``operator``
may also bind meters and replay their quarantine.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from adapters.store import meters as registry
from adapters.store.exclusions import list_exclusions
from adapters.store.meters import MeterQuery
from adapters.vee_store import list_anomalies
from api.auth_db import key_role
from api.deps import Operator, ascii_int, connection
from api.problems import ProblemError
from api.routes import operator_meters
from api.web import dashboard_data as data
from api.web import labels
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
        billed = await data.billed_balances(conn, limit=20)
        anomalies = await list_anomalies(conn, limit=20)
        exclusions = await list_exclusions(conn, limit=20)
        charts = [
            (
                h,
                data.balance_chart(
                    await data.house_balance_days(conn, h.house, h.service), data.unit_of(h.service)
                ),
            )
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
            "billed": billed,
            "units": {h.service: data.unit_of(h.service) for h in [*houses, *billed]},
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
            "chart": data.balance_chart(days, data.unit_of(service)),
            "unit": data.unit_of(service),
            "anomalies": data.anomaly_rows(anomalies, web(request).timezone),
        },
    )


PAGE_ROWS = 50
STATUSES = {"all": None, "unbound": True, "bound": False}
MAX_ERRORS_SHOWN = 200


def _meters_query(params: Mapping[str, str]) -> tuple[MeterQuery, dict[str, str], int]:
    """The page's filters from its query string (anything unknown falls back to "all")."""
    status = params.get("status", "all")
    status = status if status in STATUSES else "all"
    service = params.get("service", "")
    service = service if service in labels.SERVICES else ""
    held = params.get("quarantine") == "1"
    text = params.get("q", "")[:200].strip()
    query = MeterQuery(
        text=text, unbound=STATUSES[status], service=service or None, quarantined=held
    )
    shown = {"q": text, "status": status, "service": service, "quarantine": "1" if held else ""}
    page = ascii_int(params.get("page", "1"), high=10**6) or 1
    return query, shown, page


def _link(shown: Mapping[str, str], page: int) -> str:
    kept = {k: v for k, v in shown.items() if v and not (k == "status" and v == "all")}
    return "/operator/meters?" + urlencode({**kept, "page": page})


async def _meters_page(
    request: Request, params: Mapping[str, str], extra: dict[str, object], status: int = 200
) -> Response:
    _, role = await current_operator(request)
    query, shown, page = _meters_query(params)
    started = time.perf_counter()
    async with connection(services_of(request), "meters page") as conn:
        counts = await registry.meter_counts(conn)
        matching = await registry.count_meters(conn, query)
        pages = max(1, math.ceil(matching / PAGE_ROWS))
        page = min(page, pages)
        rows = await registry.search_meters(
            conn, query, limit=PAGE_ROWS, offset=(page - 1) * PAGE_ROWS
        )
    return render(
        request,
        "meters.html",
        {
            "role": role,
            "meters": rows,
            "counts": counts,
            "matching": matching,
            "page": page,
            "pages": pages,
            "first": (page - 1) * PAGE_ROWS + 1,
            "shown": shown,
            "here": _link(shown, page),
            "prev": _link(shown, page - 1) if page > 1 else None,
            "next": _link(shown, page + 1) if page < pages else None,
            "services": labels.SERVICES,
            "query_ms": (time.perf_counter() - started) * 1000,
            **extra,
        },
        status=status,
    )


@router.get("/meters", response_class=HTMLResponse)
async def meters_page(request: Request) -> Response:
    """Every meter, 50 a page: search, filters, binding one by one or from a CSV file."""
    return await _meters_page(request, request.query_params, {})


@router.post("/meters/bind-csv", response_class=HTMLResponse)
async def bind_csv(request: Request) -> Response:
    """Binds the meters of an uploaded CSV file; the page shows the summary and every error."""
    _, form = await _operator_form(request)
    upload = (await request.form()).get("file")
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    if not data.strip():
        return await _meters_page(
            request, {}, {"bulk_error": "Выберите непустой CSV-файл с заголовком"}, status=422
        )
    result = await operator_meters.bind_csv_file(
        data, form.get("dry_run") == "1", services_of(request)
    )
    errors = result.errors[:MAX_ERRORS_SHOWN]
    return await _meters_page(
        request,
        {},
        {
            "bulk": result,
            "bulk_name": upload.filename if isinstance(upload, UploadFile) else "",
            "bulk_errors": errors,
            "bulk_more": len(result.errors) - len(errors),
        },
        status=422 if result.errors and not result.bound_lines else 200,
    )


async def _operator_form(request: Request) -> tuple[Operator, dict[str, str]]:
    session, role = await current_operator(request)
    form = await checked_form(request, session)
    if role != "operator":
        raise Forbidden(403, "Ключ с ролью «просмотр» не может изменять данные")
    return Operator(session.key_id, role), form


def _back(form: Mapping[str, str]) -> str:
    """The meters page the form was posted from (its search and page), nowhere else."""
    target = safe_next(form.get("back"), "/operator/meters")
    return target if target.startswith("/operator/meters?") else "/operator/meters"


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
    back = redirect(_back(form))
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
    operator, form = await _operator_form(request)
    back = redirect(_back(form))
    report = await operator_meters.replay_quarantine(
        operator_meters.ReplayRequest(meter_ids=[_meter_id(meter_id)]),
        operator,
        services_of(request),
    )
    flash(request, back, "ok", _replay_text(report))
    return back
