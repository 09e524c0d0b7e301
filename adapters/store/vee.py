"""The store side of batch VEE: a period's meters and readings in, a run's results out."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import date, datetime

import asyncpg
import numpy as np

from adapters.store.db import store_errors
from adapters.store.writer import ReadingStore
from core.periods import parse_period
from core.vee.assemble import PeriodReadings, VeeMeter, VeeOutcome


async def premise_meters(conn: asyncpg.Connection) -> dict[tuple[str, str], int]:
    """(house, service) -> premise meters bound in the registry, with readings or not."""
    async with store_errors("count premise meters"):
        rows = await conn.fetch(
            "SELECT p.house_id, m.service, count(*) AS n FROM meters m"
            " JOIN premises p ON p.id = m.premise_id GROUP BY 1, 2"
        )
    return {(r["house_id"], r["service"]): r["n"] for r in rows}


@contextlib.asynccontextmanager
async def vee_connection(store: ReadingStore) -> AsyncIterator[asyncpg.Connection]:
    """One connection and one transaction for a whole run: it reads the period house by house
    and replaces the period's earlier run, which readers see until it commits."""
    async with store.pool.acquire() as conn, conn.transaction():
        yield conn


async def period_meters(conn: asyncpg.Connection, start: datetime, end: datetime) -> list[VeeMeter]:
    """Every meter with readings in [start, end], by house (house meters and premises' ones
    alike; meters of no house last), then id."""
    async with store_errors("load VEE meters"):
        rows = await conn.fetch(
            "SELECT m.id, m.source, m.external_id, m.channel, m.service, m.capacity_digits,"
            " coalesce(m.house_id, p.house_id) AS house, m.house_id IS NOT NULL AS is_house"
            " FROM meters m LEFT JOIN premises p ON p.id = m.premise_id"
            " WHERE EXISTS (SELECT 1 FROM readings r WHERE r.meter_id = m.id"
            "   AND r.ts >= $1 AND r.ts <= $2)"
            " ORDER BY 7 NULLS LAST, m.id",
            start,
            end,
        )
    return [VeeMeter(*r) for r in rows]


async def period_readings(
    conn: asyncpg.Connection, meters: Sequence[VeeMeter], history_from: datetime, end: datetime
) -> PeriodReadings:
    """The readings of ``meters`` from ``history_from`` to ``end``, as columns."""
    async with store_errors("load VEE readings"):
        readings = await conn.fetch(
            "SELECT meter_id, extract(epoch FROM ts)::float8 AS t, value, kind"
            " FROM readings WHERE ts >= $1 AND ts <= $2 AND meter_id = ANY($3::integer[])",
            history_from,
            end,
            [m.id for m in meters],
        )
    index = {m.id: i for i, m in enumerate(meters)}
    n = len(readings)
    return PeriodReadings(
        meter_index=np.fromiter((index[r[0]] for r in readings), np.int64, n),
        seconds=np.fromiter((r[1] for r in readings), np.float64, n),
        value=np.fromiter((r[2] for r in readings), np.float64, n),
        kind=np.fromiter((r[3] for r in readings), np.int8, n),
    )


async def begin_run(conn: asyncpg.Connection, period: date, started: datetime) -> int:
    """Deletes the period's earlier run (its anomalies, balance and estimates go with it) and
    starts this one; :func:`finish_run` fills in its figures."""
    async with store_errors("start a VEE run"):
        await conn.execute("DELETE FROM vee_runs WHERE period = $1", period)
        run_id = await conn.fetchval(
            "INSERT INTO vee_runs (period, started_at, meters, readings, off_grid, anomalies,"
            " estimates, load_s, compute_s, write_s) VALUES ($1, $2, 0, 0, 0, 0, 0, 0, 0, 0)"
            " RETURNING id",
            period,
            started,
        )
    return int(run_id)


async def save_results(
    conn: asyncpg.Connection,
    run_id: int,
    period: date,
    outcome: VeeOutcome,
    *,
    estimates_between: tuple[datetime, datetime],
) -> None:
    """Writes what one part of the run (a block of houses) found."""
    async with store_errors("write VEE results"):
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


async def finish_run(conn: asyncpg.Connection, run_id: int, figures: Mapping[str, object]) -> None:
    """The run's figures: meters, readings, off_grid, anomalies, estimates, load_s,
    compute_s, write_s."""
    names = ("meters", "readings", "off_grid", "anomalies", "estimates", "load_s",
             "compute_s", "write_s")  # fmt: skip
    sets = ", ".join(f"{n} = ${i}" for i, n in enumerate(names, start=2))
    async with store_errors("finish a VEE run"):
        await conn.execute(
            f"UPDATE vee_runs SET {sets}, finished_at = now() WHERE id = $1",
            run_id,
            *(figures[n] for n in names),
        )


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
