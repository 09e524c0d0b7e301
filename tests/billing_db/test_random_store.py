"""Random houses billed from the store, month by month, equal the case mode line by line.

The cases are those of tests/billing/test_properties.py (gaps, rollovers, several meters,
heating, СОИ with caps, odd settings); each is loaded into the same database (emptied between
examples), its readings ingested like the gateway writes them, every period billed in order.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, Phase, given, settings

from api.runtime import migrate_url
from core.billing import BillingSettings, month_name
from core.billing.case import bill_case
from ingest.billing import bill_period
from tests.billing.test_properties import cases
from tests.billing_db.convert import ingest, readings_of, reference_of
from tests.billing_db.helpers import accruals, load, period

pytestmark = pytest.mark.postgres

_TABLES = (
    "accruals, house_balances, billed_estimates, billing_runs, premise_normatives, tariffs,"
    " normatives, soi_normatives, readings, meters, premises, houses"
)
ZERO = ("0.000000", "0.00")


def _settings(case: dict[str, Any]) -> BillingSettings:
    raw = case.get("settings", {})
    return BillingSettings(
        average_window_months=raw.get("average_window_months", 6),
        average_min_months=raw.get("average_min_months", 3),
        average_max_periods=raw.get("average_max_periods", 6),
        increasing_coefficient=Decimal(raw.get("increasing_coefficient", "1.5")),
    )


async def _store_lines(url: str, case: dict[str, Any]) -> dict[tuple[str, ...], tuple[str, ...]]:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"TRUNCATE {_TABLES} CASCADE")
    finally:
        await conn.close()
    await load(url, reference_of(case))
    await ingest(url, readings_of(case))
    first = period(case.get("start_period", case["period"]))
    conn = await asyncpg.connect(url)
    try:
        for p in range(first, period(case["period"]) + 1):
            await bill_period(conn, p, timezone=case["timezone"], settings=_settings(case))
    finally:
        await conn.close()
    return {
        (a["period"], a["premise"], a["service"], a["method"]): (a["volume"], a["amount"])
        for a in await accruals(url)
        if (a["volume"], a["amount"]) != ZERO
    }


def _case_lines(case: dict[str, Any]) -> dict[tuple[str, ...], tuple[str, ...]]:
    return {
        (a["period"], a["premise"], a["service"], a["method"]): (a["volume"], a["amount"])
        for a in bill_case(case, explain=False)["accruals"]
        if (a["volume"], a["amount"]) != ZERO
    }


async def test_store_equals_case_on_random_houses(db_url: str) -> None:
    await migrate_url(db_url)
    pool = ThreadPoolExecutor(1)
    checked = []

    @settings(
        max_examples=20,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases())
    def one(case: dict[str, Any]) -> None:
        if not case["tariffs"]:
            return  # the store refuses a month without tariffs; the case bills nothing
        got = pool.submit(asyncio.run, _store_lines(db_url, case)).result()
        want = _case_lines(case)
        assert got == want, month_name(period(case["period"]))
        checked.append(len(want))

    one()
    assert len(checked) >= 6
