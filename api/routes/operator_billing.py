"""Operators bill a period (``uchet bill``) and read house balances (СОИ, ОДПУ vs premises)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from adapters.store.billing_reads import house_balances
from api.deps import PERIOD, OperatorDep, ServicesDep, ViewerDep, connection
from api.problems import responses
from api.schemas import DECIMAL_PATTERN
from ingest.billing import bill_period, parse_billing_period

router = APIRouter(prefix="/v1/operator", tags=["operators"])

Period = Annotated[str, Path(pattern=PERIOD, description="YYYY-MM")]


class ServiceTotal(BaseModel):
    service: str
    lines: int
    amount: str = Field(pattern=DECIMAL_PATTERN, description="₽")


class BillResult(BaseModel):
    period: str
    run_id: int
    premises: int
    meters: int
    lines: int
    estimates: int
    services: list[ServiceTotal]
    total: str = Field(pattern=DECIMAL_PATTERN, description="₽")
    warnings: list[str]
    seconds: float = Field(description="load + compute + explanations + write")


@router.post("/billing/{period}", response_model=BillResult, responses=responses(401, 403, 422))
async def bill(period: Period, _: OperatorDep, services: ServicesDep) -> BillResult:
    """Bills the period from the store, replacing its accruals (idempotent)."""
    index = parse_billing_period(period)
    async with connection(services, "bill period") as conn:
        report = await bill_period(conn, index, timezone=services.settings.timezone)
    return BillResult(
        period=report.period,
        run_id=report.run_id,
        premises=report.premises,
        meters=report.meters,
        lines=report.lines,
        estimates=report.estimates,
        services=[
            ServiceTotal(service=t.service, lines=t.lines, amount=f"{t.amount:f}")
            for t in report.services
        ],
        total=f"{report.total:f}",
        warnings=report.warnings,
        seconds=report.load_s + report.compute_s + report.explain_s + report.write_s,
    )


class BalanceRow(BaseModel):
    period: str
    service: str
    house_volume: str | None = Field(description="ОДПУ; null: no house meter data")
    individual_volume: str
    excess_volume: str | None
    distributed_volume: str
    operator_volume: str


@router.get(
    "/houses/{house_id}/balance",
    response_model=list[BalanceRow],
    responses=responses(401, 403, 422),
)
async def balance(
    house_id: Annotated[str, Path(min_length=1, max_length=200)],
    _: ViewerDep,
    services: ServicesDep,
    period: Annotated[str | None, Query(pattern=PERIOD)] = None,
) -> list[BalanceRow]:
    """The house balance of billed periods (newest first): house meter against premises."""
    day = date(int(period[:4]), int(period[5:7]), 1) if period else None
    async with connection(services, "house balance") as conn:
        rows = await house_balances(conn, house_id, period=day)

    def text(v: object) -> str | None:
        return None if v is None else f"{v:f}"

    return [
        BalanceRow(
            period=f"{r['period']:%Y-%m}",
            service=r["service"],
            house_volume=text(r["house_volume"]),
            individual_volume=text(r["individual_volume"]) or "0",
            excess_volume=text(r["excess_volume"]),
            distributed_volume=text(r["distributed_volume"]) or "0",
            operator_volume=text(r["operator_volume"]) or "0",
        )
        for r in rows
    ]
