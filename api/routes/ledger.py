"""The ledger over HTTP: operators record payments and upload bank registers and read the
debtors with aging; residents read their balance and download their ЕПД."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path as FsPath
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, File, Path, Query, Response, UploadFile
from pydantic import BaseModel, Field

from adapters.payments.mapping import load_mapping
from adapters.payments.register import PaymentRow
from adapters.store.ledger import account_key, record_payments
from api.deps import PERIOD, OperatorDep, ResidentDep, ServicesDep, ViewerDep, connection
from api.problems import ProblemError, responses
from api.routes.ledger_data import (
    DebtorQuery,
    balance_json,
    collection_view,
    debtors_all,
    debtors_csv,
    debtors_view,
    debtors_xlsx,
    epd_documents,
    load_payee,
    months,
    report_day,
)
from api.routes.operator_ingest import disk_name, upload_name
from api.runtime import settings as core_settings
from core.ledger import LedgerError
from core.ledger.aging import Debtor
from core.ledger.dates import month_of, parse_day, parse_period, period_name
from core.ledger.model import CHARGES, PENALTY
from core.ledger.money import parse_money, parse_typed_rubles
from ingest.payments import import_register

router = APIRouter(tags=["ledger"])

MAPPING_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")
Month = Annotated[str, Query(pattern=PERIOD, description="YYYY-MM")]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class PaymentIn(BaseModel):
    id: str = Field(min_length=1, max_length=200, description="payment id; a retry repeats it")
    account: str = Field(min_length=1, max_length=200, description="лицевой счёт")
    date: str = Field(description="YYYY-MM-DD")
    amount: str = Field(description="rubles with two decimals, 1234.50")
    period: str | None = Field(default=None, pattern=PERIOD, description="the named month")
    to: str = Field(default=CHARGES, pattern=f"^({CHARGES}|{PENALTY})$")


class PaymentOut(BaseModel):
    id: str
    account: str
    status: str = Field(description="recorded | duplicate | unassigned (unknown account)")


@router.post(
    "/v1/operator/payments",
    response_model=PaymentOut,
    responses=responses(401, 403, 409, 422),
)
async def add_payment(
    body: PaymentIn, _: OperatorDep, services: ServicesDep, response: Response
) -> PaymentOut:
    """Records one payment; idempotent on its id (the same id and data again: ``duplicate``,
    other data: 409). A payment for an unknown account is kept apart to assign."""
    try:
        day = parse_day(body.date, "date")
        amount = parse_money(body.amount, "amount")
    except LedgerError as exc:
        raise ProblemError(422, "validation-error", str(exc)) from None
    if amount <= 0:
        raise ProblemError(422, "validation-error", f"amount {body.amount} is not above zero")
    if any(ord(c) < 32 for c in body.id + body.account):
        raise ProblemError(422, "validation-error", "id or account has control characters")
    period = None
    if body.period:
        index = parse_period(body.period, "period")
        period = date(index // 12, index % 12 + 1, 1)
    row = PaymentRow(
        id=body.id,
        account=body.account,
        day=date.fromordinal(day),
        amount=amount,
        period=period,
        to=body.to,
        line=0,
    )
    async with connection(services, "record payment") as conn:
        w = await record_payments(conn, [row], "api")
    if w.conflicts:
        raise ProblemError(
            409, "conflict", f"payment {body.id}: already recorded with other data; not changed"
        )
    status = "recorded" if w.recorded else "unassigned" if w.unassigned else "duplicate"
    response.status_code = 200 if status == "duplicate" else 201
    return PaymentOut(id=body.id, account=body.account, status=status)


class RowProblem(BaseModel):
    line: int
    reason: str
    detail: str


class RegisterReport(BaseModel):
    file: str
    rows: int = Field(description="good rows read")
    recorded: list[str]
    duplicates: list[str]
    unassigned: list[str] = Field(description="unknown accounts, kept apart to assign")
    conflicts: list[str] = Field(description="ids already recorded with other data")
    rejected: list[RowProblem] = Field(description="bad rows, kept with file and line")
    warnings: list[str]
    error: str | None = Field(description="the whole file could not be read")


@router.post(
    "/v1/operator/payments/register",
    response_model=list[RegisterReport],
    responses=responses(401, 403, 413, 422),
)
async def upload_register(
    files: Annotated[list[UploadFile], File(description="bank payment registers")],
    _: OperatorDep,
    services: ServicesDep,
    mapping: Annotated[str, Query(description="sberbank (default), csv, or a named one")] = (
        "sberbank"
    ),
) -> list[RegisterReport]:
    """Imports uploaded registers: a report per file naming each bad row's line."""
    if not MAPPING_NAME.match(mapping):
        raise ProblemError(422, "validation-error", f"mapping {mapping!r} is not a mapping name")
    chosen = load_mapping(mapping, core_settings().home)
    if not files:
        raise ProblemError(422, "validation-error", "no files")
    out = []
    with tempfile.TemporaryDirectory(prefix="uchet-payments-") as tmp:
        for i, upload in enumerate(files):
            name = upload_name(upload.filename, i)
            folder = FsPath(tmp) / f"{i:04d}"
            folder.mkdir()
            path = folder / disk_name(name)
            path.write_bytes(await upload.read())
            async with connection(services, "import payment register") as conn:
                r = await import_register(conn, path, chosen)
            out.append(
                RegisterReport(
                    file=name,
                    rows=r.rows,
                    recorded=r.write.recorded,
                    duplicates=r.write.duplicates,
                    unassigned=r.write.unassigned,
                    conflicts=r.write.conflicts,
                    rejected=[
                        RowProblem(line=e.line, reason=e.reason, detail=e.detail)
                        for e in r.rejected
                    ],
                    warnings=r.warnings,
                    error=r.error,
                )
            )
    return out


Bucket = Annotated[
    str | None, Query(pattern="^(0-30|31-90|91-180|181\\+)$", description="only debt in it")
]
MinDebt = Annotated[
    str | None, Query(max_length=20, description="least debt plus penalty, rubles (1500.00)")
]
House = Annotated[str | None, Query(max_length=200)]


def _min_debt(value: str | None) -> int:
    """Rubles as an operator types them (``1500``, ``1 500,5``) → kopecks; empty is none."""
    return parse_typed_rubles(value, "min_debt") if (value or "").strip() else 0


def debtor_query(services: Any, month: str, min_debt: str | None) -> tuple[int, int, int]:
    """The month, the day its report is as of (today within it) and the least debt (kopecks)
    of a debtors query; 422 when one is wrong."""
    try:
        if not re.fullmatch(PERIOD, month):  # also bounds the year (the page passes any text)
            raise LedgerError(f"month: {month!r} is not a month YYYY-MM of 1900–2199")
        index = parse_period(month, "month")
        return index, report_day(index, _today(services)), _min_debt(min_debt)
    except LedgerError as exc:
        raise ProblemError(422, "validation-error", str(exc)) from None


Live = Annotated[bool, Query(description="settle every account now even when the month is saved")]


@dataclass(frozen=True, slots=True)
class DebtorFilter:
    """The query of the debtors list and its exports."""

    month: Month
    house: House = None
    min_debt: MinDebt = None
    bucket: Bucket = None
    live: Live = False


def debtor_filter(services: Any, f: DebtorFilter) -> DebtorQuery:
    """The view's query of a filter; 422 when it is wrong."""
    index, day, least = debtor_query(services, f.month, f.min_debt)
    return DebtorQuery(index, day, f.house, least, f.bucket, f.live)


async def debtors_of(services: Any, f: DebtorFilter) -> tuple[list[Debtor], int, int]:
    """Every debtor of the filter (from the saved month when there is one), the month and the
    day they are as of."""
    q = debtor_filter(services, f)
    async with connection(services, "debtors") as conn:
        found, day = await debtors_all(conn, q)
    return found, q.month, day


@router.get("/v1/operator/debtors", responses=responses(401, 403, 422))
async def debtors(
    f: Annotated[DebtorFilter, Depends()],
    _: ViewerDep,
    services: ServicesDep,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
) -> dict[str, Any]:
    """Accounts owing at the month's end (today for this month), largest debt first: period
    debt by days overdue (0–30, 31–90, 91–180, 181+), penalty due; totals of all that match.
    Read from the saved month (``uchet ledger --month M --save``) when there is one, else
    settled now; ``source`` says which, as of when, and what arrived since it was saved."""
    q = debtor_filter(services, f)
    async with connection(services, "debtors") as conn:
        view = await debtors_view(conn, q, offset=offset, limit=limit)
    return view.report


@router.get(
    "/v1/operator/debtors.{fmt}",
    response_class=Response,
    responses={
        **responses(401, 403, 422),
        200: {"content": {"text/csv": {}, XLSX: {}}},
    },
)
async def debtors_export(
    fmt: Annotated[str, Path(pattern="^(csv|xlsx)$")],
    f: Annotated[DebtorFilter, Depends()],
    _: ViewerDep,
    services: ServicesDep,
) -> Response:
    """The debtors list (same filters, every row) as CSV (``;``, decimal comma, UTF-8 with BOM)
    or XLSX."""
    found, index, day = await debtors_of(services, f)
    return export_response(found, fmt, index, day, f.house)


def export_response(
    found: list[Debtor], fmt: str, month: int, day: int, house: str | None
) -> Response:
    """The export file of the debtors, named for the month (and house)."""
    name = f"debtors-{period_name(month)}{'-' + house if house else ''}"
    name = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)
    if fmt == "csv":
        body, media = debtors_csv(found), "text/csv; charset=utf-8"
    else:
        title = f"Должники на {date.fromordinal(day):%d.%m.%Y}" + (
            f", дом {house}" if house else ""
        )
        body, media = debtors_xlsx(found, title), XLSX
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


@router.get("/v1/operator/collection", responses=responses(401, 403, 422))
async def collection(
    month: Month,
    _: ViewerDep,
    services: ServicesDep,
    house: House = None,
    months_back: Annotated[int, Query(alias="months", ge=1, le=36)] = 6,
    live: Live = False,
) -> dict[str, Any]:
    """The collection rate per house and period: of the charges of each of the ``months``
    periods up to ``month`` billed by the month's end (today for this month), how much the
    payments allocated to them had paid; exact kopecks, the rate in percent rounded half-up to
    hundredths (null when nothing was charged)."""
    index, day, _least = debtor_query(services, month, None)
    async with connection(services, "collection rate") as conn:
        return await collection_view(conn, DebtorQuery(index, day, house, live=live), months_back)


def _today(services: Any) -> int:
    return datetime.now(ZoneInfo(services.settings.timezone)).date().toordinal()


@router.get("/v1/resident/balance", responses=responses(401, 404, 422))
async def balance(
    resident: ResidentDep,
    services: ServicesDep,
    month: Annotated[
        str | None, Query(pattern=PERIOD, description="YYYY-MM; default: this month")
    ] = None,
) -> dict[str, Any]:
    """The account's month as of today (or the month's end): opening balance, charged, paid,
    penalties, closing balance, debt by period, the month's payments and the sum to pay."""
    today = _today(services)
    index = month_of(today) if month is None else parse_period(month, "month")
    if index > month_of(today):
        raise ProblemError(422, "validation-error", f"месяц {month} ещё не наступил")
    async with connection(services, "balance") as conn:
        key = await account_key(conn, resident.premise_id)
        if key is None:
            raise ProblemError(404, "not-found", "лицевой счёт не найден")
        (item,) = await months(conn, index, today, keys=[key])
    return balance_json(item)


@router.get(
    "/v1/resident/epd/{month}.pdf",
    response_class=Response,
    responses={**responses(401, 404, 422), 200: {"content": {"application/pdf": {}}}},
)
async def epd(
    month: Annotated[str, Path(pattern=PERIOD, description="YYYY-MM")],
    resident: ResidentDep,
    services: ServicesDep,
) -> Response:
    """The ЕПД (единый платёжный документ) of the account for a month, as a PDF."""
    index = parse_period(month, "month")
    if index >= month_of(_today(services)):
        raise ProblemError(404, "not-found", f"ЕПД за {month} ещё не выставлен")
    payee = load_payee(core_settings().home / "payee.json")
    got: list[bytes] = []
    async with connection(services, "epd") as conn:
        key = await account_key(conn, resident.premise_id)
        if key is not None:
            await epd_documents(
                conn, index, payee, keys=[key], write=lambda a, pdf, qr: got.append(pdf)
            )
    if not got:
        raise ProblemError(404, "not-found", f"за {month} нет начислений и оплат")
    return Response(
        got[0],
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="epd-{key}-{month}.pdf"'},
    )
