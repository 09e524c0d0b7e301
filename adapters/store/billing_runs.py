"""The store side of a billing run: the schema check, one run per period, later periods."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import date

import asyncpg

from adapters.store.db import store_errors
from core.errors import BillingError, StoreError

_LOCK = 0x62696C6C  # "bill": one run per period at a time


@contextlib.asynccontextmanager
async def period_lock(conn: asyncpg.Connection, period: int) -> AsyncIterator[None]:
    """Holds the period's advisory lock (another run of it waits); checks the schema first."""
    async with store_errors("bill"):
        if await conn.fetchval("SELECT to_regclass('tariffs')") is None:
            raise StoreError(
                "the database has no billing tables: run `uchet migrate`", retryable=False
            )
        await conn.execute("SELECT pg_advisory_lock($1, $2)", _LOCK, period)
        try:
            yield
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1, $2)", _LOCK, period)


async def billed_after(conn: asyncpg.Connection, period: date) -> list[date]:
    """Periods after ``period`` (its first day) that already have accruals."""
    async with store_errors("billed periods"):
        rows = await conn.fetch(
            "SELECT DISTINCT period FROM accruals WHERE period > $1 ORDER BY period",
            period,
        )
    return [r["period"] for r in rows]


async def refuse_opening_debts(conn: asyncpg.Connection, period: date) -> None:
    """Refuses a run of ``period`` when accounts billed by it have an opening debt (not 0) of
    the same period: the ledger would owe both, and it stops at such an account."""
    async with store_errors("bill"):
        rows = await conn.fetch(
            "SELECT o.account, count(*) OVER () AS n FROM opening_debts o"
            " WHERE o.period = $1 AND o.amount <> 0 AND EXISTS (SELECT 1 FROM premises p"
            "  WHERE p.account = o.account OR (p.account IS NULL AND p.id = o.account))"
            " ORDER BY o.account LIMIT 5",
            period,
        )
    if rows:
        n = int(rows[0]["n"])
        shown = ", ".join(r["account"] for r in rows) + (" …" if n > len(rows) else "")
        raise BillingError(
            f"{n} account(s) have an opening debt of {period:%Y-%m}, the month this run "
            f"bills: {shown}. The ledger takes one or the other: set those opening debts to 0 "
            "with `uchet payments opening-debts` (or give them an earlier period), then bill "
            "again"
        )
