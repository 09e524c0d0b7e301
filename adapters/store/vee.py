"""The store side of batch VEE: a period's meters and readings in, a run's results out."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import date, datetime

import asyncpg
import numpy as np

from adapters.store.db import store_errors
from adapters.store.writer import ReadingStore
from core.periods import parse_period
from core.vee.assemble import PeriodReadings, VeeMeter, VeeOutcome


async def premise_meters(store: ReadingStore) -> dict[tuple[str, str], int]:
    """(house, service) -> premise meters bound in the registry, with readings or not."""
    async with store_errors("count premise meters"), store.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT p.house_id, m.service, count(*) AS n FROM meters m"
            " JOIN premises p ON p.id = m.premise_id GROUP BY 1, 2"
        )
    return {(r["house_id"], r["service"]): r["n"] for r in rows}


async def load_period(
    store: ReadingStore, start: datetime, end: datetime, history_from: datetime
) -> tuple[list[VeeMeter], PeriodReadings]:
    """Every meter with readings in [start, end], and their readings from ``history_from``."""
    async with store_errors("load VEE data"), store.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT m.id, m.source, m.external_id, m.channel, m.service, m.capacity_digits,"
            " coalesce(m.house_id, p.house_id) AS house, m.house_id IS NOT NULL AS is_house"
            " FROM meters m LEFT JOIN premises p ON p.id = m.premise_id"
            " WHERE EXISTS (SELECT 1 FROM readings r WHERE r.meter_id = m.id"
            "   AND r.ts >= $1 AND r.ts <= $2)"
            " ORDER BY m.id",
            start,
            end,
        )
        meters = [VeeMeter(*r) for r in rows]
        readings = await conn.fetch(
            "SELECT meter_id, extract(epoch FROM ts)::float8 AS t, value, kind"
            " FROM readings WHERE ts >= $1 AND ts <= $2 AND meter_id = ANY($3::integer[])",
            history_from,
            end,
            [m.id for m in meters],
        )
    index = {m.id: i for i, m in enumerate(meters)}
    n = len(readings)
    return meters, PeriodReadings(
        meter_index=np.fromiter((index[r[0]] for r in readings), np.int64, n),
        seconds=np.fromiter((r[1] for r in readings), np.float64, n),
        value=np.fromiter((r[2] for r in readings), np.float64, n),
        kind=np.fromiter((r[3] for r in readings), np.int8, n),
    )


async def save_run(
    store: ReadingStore,
    period: date,
    outcome: VeeOutcome,
    *,
    started: datetime,
    meters: int,
    readings: int,
    estimates_between: tuple[datetime, datetime],
    load_s: float,
    compute_s: float,
) -> tuple[int, float]:
    """Replaces the period's earlier run with this one, in one transaction: (run id, write s)."""
    t0 = time.perf_counter()
    async with store_errors("write VEE results"), store.pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("DELETE FROM vee_runs WHERE period = $1", period)
            run_id = await conn.fetchval(
                "INSERT INTO vee_runs (period, started_at, meters, readings, off_grid, anomalies,"
                " estimates, load_s, compute_s, write_s) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,0)"
                " RETURNING id",
                period, started, meters, readings, outcome.off_grid, len(outcome.anomalies),
                len(outcome.estimates), load_s, compute_s,
            )  # fmt: skip
            await conn.executemany(
                "INSERT INTO anomalies (run_id, period, type, severity, service, meter_id,"
                " house_id, starts, ends, evidence)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)",
                [(run_id, period, *a) for a in outcome.anomalies],
            )
            await conn.copy_records_to_table(
                "vee_house_balance",
                records=[(period, *b, run_id) for b in outcome.balance],
                columns=("period", "house_id", "service", "day", "house_volume",
                         "premises_volume", "ratio", "premises_with_data", "premises_total",
                         "run_id"),
            )  # fmt: skip
            if outcome.estimates:
                await conn.execute(
                    "DELETE FROM estimates WHERE ts >= $1 AND ts < $2"
                    " AND meter_id = ANY($3::integer[])",
                    *estimates_between, list({e[0] for e in outcome.estimates}),
                )  # fmt: skip
                await conn.copy_records_to_table(
                    "estimates",
                    records=[(*e, run_id) for e in outcome.estimates],
                    columns=("meter_id", "ts", "value", "method", "run_id"),
                )
            write_s = time.perf_counter() - t0
            await conn.execute("UPDATE vee_runs SET write_s = $1 WHERE id = $2", write_s, run_id)
    return int(run_id), write_s


async def list_anomalies(
    store: ReadingStore | asyncpg.Connection,
    *,
    period: str | None = None,
    type: str | None = None,
    house: str | None = None,
    meter: str | None = None,
    severity: str | None = None,
    limit: int = 1000,
) -> list[dict[str, object]]:
    """Stored anomalies, newest period first; filters are exact matches."""
    period_date = date(*parse_period(period), 1) if period else None
    args: Sequence[object] = (period_date, type, house, meter, severity, limit)
    sql = (
        "SELECT a.id, a.period, a.type, a.severity, a.service, a.house_id,"
        " m.source || ':' || m.external_id || ':' || m.channel AS meter,"
        " a.starts, a.ends, a.evidence FROM anomalies a LEFT JOIN meters m ON m.id = a.meter_id"
        " WHERE ($1::date IS NULL OR a.period = $1) AND ($2::text IS NULL OR a.type = $2)"
        " AND ($3::text IS NULL OR a.house_id = $3)"
        " AND ($4::text IS NULL OR m.external_id = $4)"
        " AND ($5::text IS NULL OR a.severity = $5)"
        " ORDER BY a.period DESC, a.house_id NULLS LAST, a.id LIMIT $6"
    )
    async with store_errors("list anomalies"):
        if isinstance(store, ReadingStore):
            async with store.pool.acquire() as conn:
                rows = await conn.fetch(sql, *args)
        else:
            rows = await store.fetch(sql, *args)
    return [
        {
            "id": r["id"],
            "period": r["period"].strftime("%Y-%m"),
            "type": r["type"],
            "severity": r["severity"],
            "service": r["service"],
            "house": r["house_id"],
            "meter": r["meter"],
            "start": r["starts"].isoformat(),
            "end": r["ends"].isoformat(),
            "evidence": json.loads(r["evidence"]),
        }
        for r in rows
    ]
