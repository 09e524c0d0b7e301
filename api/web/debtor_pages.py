"""The operator's debtors page (/operator/debtors): debtors with the aging of their debt,
filters (house, least debt, bucket), paging and totals, the collection rate per house and
period, and the list exported as CSV or XLSX — through the same functions as the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from adapters.store.ledger import house_list
from api.deps import connection
from api.problems import ProblemError
from api.routes.ledger import DebtorFilter, debtor_query, debtors_of, export_response
from api.routes.ledger_data import collection_json, debtor_list, debtor_months, debtors_json
from api.web.common import Forbidden, current_operator, redirect, render, services_of
from core.ledger.aging import BUCKET_NAMES, chosen
from core.ledger.dates import month_of, period_name

router = APIRouter(prefix="/operator", include_in_schema=False)
PAGE_SIZE = 50
COLLECTION_MONTHS = 6
BUCKET_LABELS = {
    "0-30": "0–30 дней",
    "31-90": "31–90 дней",
    "91-180": "91–180 дней",
    "181+": "181 день и более",
}


@dataclass(frozen=True, slots=True)
class Filters:
    """The page's query: month (YYYY-MM), house, least debt (rubles as typed), bucket, page."""

    month: str
    house: str | None
    min_debt: str | None
    bucket: str | None
    page: int

    @classmethod
    def of(cls, request: Request, this_month: str) -> Filters:
        q = request.query_params

        def text(name: str, limit: int) -> str | None:
            value = q.get(name, "").strip()
            return value[:limit] or None

        bucket = text("bucket", 10)
        page = q.get("page", "1")
        return cls(
            month=text("month", 7) or this_month,
            house=text("house", 200),
            min_debt=text("min_debt", 20),
            bucket=bucket if bucket in BUCKET_NAMES else None,
            page=int(page) if page.isascii() and page.isdigit() and 0 < int(page) < 10**6 else 1,
        )

    def query(self, **changes: Any) -> str:
        """The query string of these filters with ``changes`` (empty values left out)."""
        values = {
            "month": self.month,
            "house": self.house,
            "min_debt": self.min_debt,
            "bucket": self.bucket,
            "page": self.page,
        }
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in (None, "", 1)})


def local_date(iso: str) -> str:
    """``2026-06-30`` → ``30.06.2026``."""
    return f"{date.fromisoformat(iso):%d.%m.%Y}"


def _this_month(request: Request) -> int:
    tz = ZoneInfo(services_of(request).settings.timezone)
    return month_of(datetime.now(tz).date().toordinal())


@router.get("/debtors", response_class=HTMLResponse)
async def debtors_page(request: Request) -> Response:
    await current_operator(request)
    services = services_of(request)
    this = _this_month(request)
    f = Filters.of(request, period_name(this))
    context: dict[str, Any] = {
        "f": f,
        "months": [period_name(m) for m in range(this, this - 13, -1)],
        "bucket_labels": BUCKET_LABELS,
        "day": local_date,
        "report": None,
        "collection": None,
        "error": None,
    }
    async with connection(services, "houses") as conn:
        context["houses"] = await house_list(conn)
    try:
        month, day, least = debtor_query(services, f.month, f.min_debt)
    except ProblemError as exc:
        context["error"] = _problem_text(exc)
        return render(request, "debtors.html", context, status=422)
    async with connection(services, "debtors") as conn:
        items, details = await debtor_months(conn, month, day, f.house)
    found = chosen(debtor_list(items, details), min_debt=least, bucket=f.bucket)
    pages = max(1, -(-len(found) // PAGE_SIZE))
    page = min(f.page, pages)
    context.update(
        report=debtors_json(found, month, day, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE),
        page=page,
        pages=pages,
        collection=collection_json(items, details, month, day, COLLECTION_MONTHS),
    )
    return render(request, "debtors.html", context)


def _problem_text(exc: ProblemError) -> str:
    text = exc.detail or ""
    if "min_debt" in text:
        return "Долг с пенями от: введите сумму в рублях, например 1500 или 1500,50"
    if "month" in text or "месяц" in text:
        return "Месяц: выберите месяц не позже текущего (ГГГГ-ММ)"
    return text


@router.get("/debtors.{fmt}")
async def debtors_export(request: Request, fmt: str) -> Response:
    await current_operator(request)
    if fmt not in ("csv", "xlsx"):
        raise Forbidden(404, "Нет такого формата выгрузки")
    f = Filters.of(request, period_name(_this_month(request)))
    try:
        query = DebtorFilter(f.month, f.house, f.min_debt, f.bucket)
        found, month, day = await debtors_of(services_of(request), query)
    except ProblemError:
        return redirect(f"/operator/debtors?{f.query()}")  # the page names what is wrong
    return export_response(found, fmt, month, day, f.house)
