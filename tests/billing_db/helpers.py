"""Shared steps of the database billing tests: a migrated database, loading, billing, reading
the accruals back in the shape of the case output."""

from __future__ import annotations

import re
from typing import Any

import asyncpg

from adapters.billing import parse_reference
from adapters.store.billing_load import LoadReport, load_reference
from core.billing import month_index
from ingest.billing import BillReport, bill_period

TZ = "Europe/Moscow"
_TRAILING = re.compile(r"(\d),(\d*?)0+(?!\d)")


def period(text: str) -> int:
    year, month = text.split("-")
    return month_index(int(year), int(month))


def same_numbers(text: str) -> str:
    """An explanation with trailing decimal zeros dropped: both front ends print readings with
    the scale of their input (``"227.000"`` in a case, 227.0 from the store)."""
    return _TRAILING.sub(lambda m: m.group(1) + ("," + m.group(2) if m.group(2) else ""), text)


async def load(url: str, doc: dict[str, Any]) -> LoadReport:
    conn = await asyncpg.connect(url)
    try:
        return await load_reference(conn, parse_reference(doc))
    finally:
        await conn.close()


async def bill(url: str, text: str, tz: str = TZ) -> BillReport:
    conn = await asyncpg.connect(url)
    try:
        return await bill_period(conn, period(text), timezone=tz)
    finally:
        await conn.close()


async def accruals(url: str, where: str = "true") -> list[dict[str, Any]]:
    """Stored accrual lines as the case output spells them, sorted like it."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            f"SELECT * FROM accruals WHERE {where} ORDER BY period, premise_id, service, method"
        )
    finally:
        await conn.close()
    return [
        {
            "period": f"{r['period']:%Y-%m}",
            "premise": r["premise_id"],
            "service": r["service"],
            "method": r["method"],
            "volume": format(r["volume"], "f"),
            "tariff": format(r["tariff"], "f"),
            "coefficient": format(r["coefficient"], "f"),
            "amount": format(r["amount"], "f"),
            "explanation": r["explanation"],
            "run_id": r["run_id"],
        }
        for r in rows
    ]


async def fetch(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()
