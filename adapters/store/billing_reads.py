"""Reads of billing results for people: a premise's accruals, a house's balance."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import asyncpg

from adapters.store.db import store_errors


async def premise_accruals(
    conn: asyncpg.Connection, premise_id: str, *, period: date | None, limit: int
) -> Sequence[asyncpg.Record]:
    """Accrual lines of a premise: one period, or the newest ``limit`` periods."""
    async with store_errors("accruals"):
        return await conn.fetch(
            "SELECT period, service, method, volume, tariff, coefficient, amount, explanation"
            " FROM accruals WHERE premise_id = $1 AND ($2::date IS NULL OR period = $2)"
            " AND ($2::date IS NOT NULL OR period IN (SELECT DISTINCT period FROM accruals"
            "  WHERE premise_id = $1 ORDER BY period DESC LIMIT $3))"
            " ORDER BY period DESC, service, method",
            premise_id,
            period,
            limit,
        )


async def house_balances(
    conn: asyncpg.Connection, house_id: str, *, period: date | None
) -> Sequence[asyncpg.Record]:
    """The house balance of billed periods (newest first)."""
    async with store_errors("house balance"):
        return await conn.fetch(
            "SELECT period, service, house_volume, individual_volume, excess_volume,"
            " distributed_volume, operator_volume FROM house_balances"
            " WHERE house_id = $1 AND ($2::date IS NULL OR period = $2)"
            " ORDER BY period DESC, service LIMIT 1000",
            house_id,
            period,
        )
