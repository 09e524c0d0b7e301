"""What the city replay reads back from the store for its report, and its set-up writes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import asyncpg

from adapters.store.db import store_errors


async def counts(conn: asyncpg.Connection) -> tuple[int, int]:
    """(premises, readings) in the store: a replay needs an empty one."""
    async with store_errors("count premises and readings"):
        premises = await conn.fetchval("SELECT count(*) FROM premises")
        readings = await conn.fetchval("SELECT count(*) FROM readings")
    return int(premises), int(readings)


async def set_logins(conn: asyncpg.Connection, accounts: Sequence[str], digest: str) -> None:
    """One password hash for many resident accounts (a simulated town's residents)."""
    async with store_errors("resident logins"):
        await conn.execute(
            "INSERT INTO resident_logins (account, password_hash)"
            " SELECT a, $2 FROM unnest($1::text[]) AS a ON CONFLICT (account) DO NOTHING",
            list(accounts),
            digest,
        )


async def meter_ids(conn: asyncpg.Connection, source: str) -> dict[str, int]:
    """External id -> registry id of a source's meters."""
    async with store_errors("meter ids"):
        rows = await conn.fetch("SELECT id, external_id FROM meters WHERE source = $1", source)
    return {r["external_id"]: r["id"] for r in rows}


async def read_back(conn: asyncpg.Connection, periods: list[date]) -> dict[str, Any]:
    """Accruals, house balances, VEE balance days and anomalies of the periods, and the
    store's counters by source."""
    async with store_errors("city read-back"):
        accruals = await conn.fetch(
            "SELECT period, premise_id, service, method, volume, amount FROM accruals"
            " WHERE period = ANY($1::date[]) ORDER BY period, premise_id, service, method",
            periods,
        )
        balances = await conn.fetch(
            "SELECT period, house_id, service, house_volume, individual_volume, excess_volume,"
            " distributed_volume, operator_volume FROM house_balances"
            " WHERE period = ANY($1::date[]) ORDER BY period, house_id, service",
            periods,
        )
        daily = await conn.fetch(
            "SELECT house_id, service, day, house_volume, premises_volume FROM vee_house_balance"
            " WHERE period = ANY($1::date[]) ORDER BY house_id, service, day",
            periods,
        )
        anomalies = await conn.fetch(
            "SELECT a.period, a.type, a.service, a.house_id, m.external_id AS meter, m.source"
            " FROM anomalies a LEFT JOIN meters m ON m.id = a.meter_id"
            " WHERE a.period = ANY($1::date[])"
            " ORDER BY a.period, a.type, a.house_id NULLS LAST, m.external_id NULLS LAST,"
            " a.service",
            periods,
        )
        by_source = await conn.fetch(
            "SELECT m.source, count(*) AS n FROM readings r JOIN meters m ON m.id = r.meter_id"
            " GROUP BY m.source ORDER BY m.source"
        )
        quarantine = await conn.fetch(
            "SELECT source, reason, count(*) AS n FROM quarantine GROUP BY source, reason"
            " ORDER BY source, reason"
        )
        dups = await conn.fetchval(
            "SELECT coalesce(sum(value), 0) FROM ingest_counters WHERE name = 'duplicates'"
        )
        return {
            "accruals": [dict(r) for r in accruals],
            "balances": [dict(r) for r in balances],
            "daily": [dict(r) for r in daily],
            "anomalies": [dict(r) for r in anomalies],
            "store": {
                "readings_by_source": {r["source"]: r["n"] for r in by_source},
                "quarantine_by_source": {
                    f"{r['source']}:{r['reason']}": r["n"] for r in quarantine
                },
                "duplicates": int(dups),
            },
        }
