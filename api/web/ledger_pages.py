"""The resident's balance page (оплата и задолженность) and their ЕПД download, through the
API's own route functions (api/routes/ledger.py), bound to the session's premise."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from api.deps import PERIOD
from api.problems import ProblemError
from api.routes import ledger
from api.web.common import Forbidden, current_resident, render, services_of
from api.web.debtor_pages import local_date
from core.ledger.dates import month_of, period_name

router = APIRouter(include_in_schema=False)


@router.get("/cabinet/balance", response_class=HTMLResponse)
async def balance(request: Request, month: str | None = None) -> Response:
    """The month's balance (this month by default, or ``?month=YYYY-MM`` of the past year)."""
    _, resident = await current_resident(request)
    services = services_of(request)
    today = datetime.now(ZoneInfo(services.settings.timezone)).date()
    this = month_of(today.toordinal())
    months = [period_name(m) for m in range(this, this - 12, -1)]
    chosen = month if month in months else None
    b = await ledger.balance(resident, services, month=chosen)
    epd_months = [period_name(m) for m in range(this - 1, this - 13, -1)]
    context = {"b": b, "epd_months": epd_months, "months": months, "day": local_date}
    return render(request, "ledger_balance.html", context)


@router.get("/cabinet/epd/{name}")
async def epd(request: Request, name: str) -> Response:
    _, resident = await current_resident(request)
    month = name.removesuffix(".pdf")
    if not name.endswith(".pdf") or not re.fullmatch(PERIOD, month):
        raise Forbidden(404, "Нет такого документа")
    try:
        return await ledger.epd(month, resident, services_of(request))
    except ProblemError as exc:
        if exc.status != 404:
            raise
        raise Forbidden(404, "Документа за этот месяц нет") from None
