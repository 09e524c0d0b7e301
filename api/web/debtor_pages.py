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
from api.routes.ledger_data import DebtorQuery, collection_view, debtors_view
from api.web.common import Forbidden, current_operator, redirect, render, services_of
from core.ledger.aging import BUCKET_NAMES
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
    live: bool = False

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
            live=q.get("live", "") in ("1", "true"),
        )

    def query(self, **changes: Any) -> str:
        """The query string of these filters with ``changes`` (empty values left out)."""
        values = {
            "month": self.month,
            "house": self.house,
            "min_debt": self.min_debt,
            "bucket": self.bucket,
            "page": self.page,
            "live": 1 if self.live else None,
        }
        values.update(changes)
        return urlencode(
            {k: v for k, v in values.items() if v not in (None, "") and (k, v) != ("page", 1)}
        )


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
    tz = ZoneInfo(services.settings.timezone)
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
    q = DebtorQuery(month, day, f.house, least, f.bucket, f.live)
    async with connection(services, "debtors") as conn:
        view = await debtors_view(
            conn, q, offset=(f.page - 1) * PAGE_SIZE, limit=PAGE_SIZE, page_size=PAGE_SIZE
        )
        collection = await collection_view(conn, q, COLLECTION_MONTHS, view.live)
    report = view.report
    context.update(
        report=report,
        page=report["offset"] // PAGE_SIZE + 1,
        pages=max(1, -(-report["totals"]["accounts"] // PAGE_SIZE)),
        collection=collection,
        source=report["source"],
        stale=stale_reasons(report["source"]),
        local_time=lambda iso: f"{datetime.fromisoformat(iso).astimezone(tz):%d.%m.%Y %H:%M}",
    )
    return render(request, "debtors.html", context)


def stale_reasons(source: dict[str, Any]) -> list[str]:
    """What arrived after the saved month was computed, as the page names it."""
    if source["kind"] != "saved":
        return []
    out = []
    if source["new_payments"]:
        out.append(f"после сохранения поступили оплаты ({source['new_payments']})")
    if source["new_accruals"]:
        out.append("появились новые начисления")
    if source["new_key_rates"]:
        out.append("добавлена ключевая ставка")
    if source.get("new_opening_debts"):
        out.append("изменились входящие долги (сальдо на начало)")
    if source["behind"]:
        out.append("месяц сохранён до его конца")
    return out


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
        query = DebtorFilter(f.month, f.house, f.min_debt, f.bucket, f.live)
        found, month, day = await debtors_of(services_of(request), query)
    except ProblemError:
        return redirect(f"/operator/debtors?{f.query()}")  # the page names what is wrong
    return export_response(found, fmt, month, day, f.house)
