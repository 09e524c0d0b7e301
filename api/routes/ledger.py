"""The ledger over HTTP: operators record payments and upload bank registers and read the
debtors with aging; residents read their balance and download their ЕПД."""

from __future__ import annotations

import re
import tempfile
from datetime import date, datetime
from pathlib import Path as FsPath
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, File, Path, Query, Response, UploadFile
from pydantic import BaseModel, Field

from adapters.payments.mapping import load_mapping
from adapters.payments.register import PaymentRow
from adapters.store.ledger import account_details, account_key, record_payments
from api.deps import PERIOD, OperatorDep, ResidentDep, ServicesDep, ViewerDep, connection
from api.problems import ProblemError, responses
from api.routes.ledger_data import balance_json, debtors_json, epd_documents, load_payee, months
from api.routes.operator_ingest import disk_name, upload_name
from api.runtime import settings as core_settings
from core.ledger import LedgerError
from core.ledger.dates import month_of, parse_day, parse_period
from core.ledger.model import CHARGES, PENALTY
from core.ledger.money import parse_money
from ingest.payments import import_register

router = APIRouter(tags=["ledger"])

MAPPING_NAME = re.compile(r"^[a-z0-9_-]{1,64}$")
Month = Annotated[str, Query(pattern=PERIOD, description="YYYY-MM")]


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


@router.get("/v1/operator/debtors", responses=responses(401, 403, 422))
async def debtors(
    month: Month,
    _: ViewerDep,
    services: ServicesDep,
    house: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Accounts owing at the month's end: period debt by days overdue (0–30, 31–90, 91–180,
    181+), penalty due; totals."""
    index = parse_period(month, "month")
    async with connection(services, "debtors") as conn:
        details = await account_details(conn, house=house)
        houses = {r["key"]: r["house_id"] for r in details}
        items = await months(conn, index, keys=None if house is None else list(houses))
    return debtors_json(items, houses, index)


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
