"""A resident's accruals (начисления) per period, each line with its explanation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query

from adapters.store.billing_reads import premise_accruals
from api.deps import PERIOD, ResidentDep, ServicesDep, connection
from api.problems import responses
from api.schemas import AccrualLine, PeriodAccruals

router = APIRouter(prefix="/v1/resident", tags=["residents"])


@router.get("/accruals", response_model=list[PeriodAccruals], responses=responses(401, 422))
async def accruals(
    resident: ResidentDep,
    services: ServicesDep,
    period: Annotated[
        str | None, Query(pattern=PERIOD, description="YYYY-MM; default: all")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=120, description="periods, newest first")] = 12,
) -> list[PeriodAccruals]:
    """Accruals of the resident's premise by period, newest first."""
    day = date(int(period[:4]), int(period[5:7]), 1) if period else None
    async with connection(services, "accruals") as conn:
        rows = await premise_accruals(conn, resident.premise_id, period=day, limit=limit)
    out: dict[date, PeriodAccruals] = {}
    totals: dict[date, Decimal] = {}
    for r in rows:
        p = r["period"]
        if p not in out:
            out[p] = PeriodAccruals(period=f"{p:%Y-%m}", total="0", lines=[])
            totals[p] = Decimal(0)
        totals[p] += r["amount"]
        out[p].lines.append(
            AccrualLine(
                service=r["service"],
                method=r["method"],
                volume=_plain(r["volume"]),
                tariff=_plain(r["tariff"]),
                coefficient=_plain(r["coefficient"]),
                amount=_plain(r["amount"]),
                explanation=r["explanation"],
            )
        )
    for p, item in out.items():
        item.total = _plain(totals[p])
    return list(out.values())


def _plain(value: Decimal) -> str:
    """Fixed-point text (never an exponent, which ``str`` gives for some values)."""
    return f"{value:f}"
