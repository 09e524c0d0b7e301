"""Batch VEE over the store: load a period's hourly data, run :mod:`core.vee`, store results.

Loads every registry meter with readings in the period (house from the premise it is bound to,
or the house of a house meter), places register readings on the hourly grid (readings more
than 5 minutes off the hour — monthly resident readings, say — are counted, not used) and
interval readings summed per hour, with three weeks of history for the estimation. Writes the
anomalies, the daily house balance and the interval estimates of the period in one
transaction, replacing an earlier run of the same period.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import numpy as np

from adapters.store.db import store_errors
from core.channels import SERVICES
from core.errors import UchetError
from core.vee import EstimateMethod, Fleet, VeeSettings, estimate_intervals, run_batch

HISTORY = timedelta(weeks=3)
SNAP_S = 300


class PeriodError(UchetError):
    """A period that is not YYYY-MM."""


def parse_period(text: str) -> tuple[int, int]:
    try:
        year, month = (int(p) for p in text.split("-"))
        date(year, month, 1)
    except ValueError as exc:
        raise PeriodError(f"period {text!r}: expected YYYY-MM") from exc
    return year, month


@dataclass(frozen=True, slots=True)
class VeeReport:
    period: str
    run_id: int
    meters: int
    readings: int
    off_grid: int
    anomalies: dict[str, int]
    estimates: int
    houses_balanced: int
    load_s: float
    compute_s: float
    write_s: float


async def run_vee(
    conn: asyncpg.Connection,
    period: str,
    *,
    timezone: str = "Europe/Moscow",
    settings: VeeSettings | None = None,
) -> VeeReport:
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    year, month = parse_period(period)
    tz = ZoneInfo(timezone)
    start = datetime(year, month, 1, tzinfo=tz).astimezone(UTC)
    nxt = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz).astimezone(UTC)
    hours = int((nxt - start).total_seconds() // 3600)
    history = int(HISTORY.total_seconds() // 3600)
    async with store_errors("load VEE data"):
        meters = await conn.fetch(
            "SELECT m.id, m.source, m.external_id, m.channel, m.service, m.capacity_digits,"
            " coalesce(m.house_id, p.house_id) AS house, m.house_id IS NOT NULL AS is_house"
            " FROM meters m LEFT JOIN premises p ON p.id = m.premise_id"
            " WHERE EXISTS (SELECT 1 FROM readings r WHERE r.meter_id = m.id"
            "   AND r.ts >= $1 AND r.ts <= $2)"
            " ORDER BY m.id",
            start,
            nxt,
        )
        rows = await conn.fetch(
            "SELECT meter_id, extract(epoch FROM ts)::float8 AS t, value, kind"
            " FROM readings WHERE ts >= $1 AND ts <= $2 AND meter_id = ANY($3::integer[])",
            start - HISTORY,
            nxt,
            [m["id"] for m in meters],
        )
    load_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    index = {m["id"]: i for i, m in enumerate(meters)}
    n = len(meters)
    mi = np.fromiter((index[r["meter_id"]] for r in rows), np.int64, len(rows))
    secs = np.fromiter((r["t"] for r in rows), np.float64, len(rows))
    val = np.fromiter((r["value"] for r in rows), np.float64, len(rows))
    kind = np.fromiter((r["kind"] for r in rows), np.int8, len(rows))
    # registers on the hourly grid, inside the period
    col = np.rint((secs - start.timestamp()) / 3600).astype(np.int64)
    on_grid = np.abs(secs - (start.timestamp() + col * 3600)) <= SNAP_S
    reg = (kind == 0) & (col >= 0) & (col <= hours)
    register = np.full((n, hours + 1), np.nan)
    use = reg & on_grid
    register[mi[use], col[use]] = val[use]
    off_grid = int((reg & ~on_grid).sum())
    # interval values summed per hour, with history for the estimation
    hour = np.floor((secs - start.timestamp()) / 3600).astype(np.int64) + history
    itv = (kind == 1) & (hour >= 0) & (hour < history + hours)
    interval_all = np.full((n, history + hours), np.nan)
    if itv.any():
        flat = np.zeros(n * (history + hours))
        seen = np.zeros(n * (history + hours), dtype=bool)
        cells = mi[itv] * (history + hours) + hour[itv]
        np.add.at(flat, cells, val[itv])
        seen[cells] = True
        interval_all = np.where(seen, flat, np.nan).reshape(n, history + hours)
    has_interval = np.isfinite(interval_all).any(axis=1)
    houses = sorted({m["house"] for m in meters if m["house"] is not None})
    house_index = {h: i for i, h in enumerate(houses)}
    fleet = Fleet(
        start=start,
        register=register,
        house=np.array([house_index.get(m["house"], -1) for m in meters], dtype=np.int64),
        service=np.array([SERVICES.index(m["service"]) for m in meters], dtype=np.int64),
        is_house_meter=np.array([m["is_house"] for m in meters], dtype=bool),
        digits=np.array([m["capacity_digits"] or 0 for m in meters], dtype=np.int64),
        allows_export=np.array([":2.8." in m["channel"] for m in meters], dtype=bool),
        interval=interval_all[:, history:] if has_interval.any() else None,
        meter_ids=tuple(f"{m['source']}:{m['external_id']}:{m['channel']}" for m in meters),
        house_ids=tuple(houses),
    )
    result = run_batch(fleet, settings=settings)
    estimates: list[tuple[int, datetime, float, str]] = []
    if has_interval.any():
        rows_i = np.flatnonzero(has_interval)
        est = estimate_intervals(interval_all[rows_i], start=start - HISTORY, tz=timezone)
        r_idx, c_idx = np.nonzero(
            np.isin(est.method, (EstimateMethod.LINEAR, EstimateMethod.SAME_DAY_TYPE_AVERAGE))
        )
        for r, c in zip(r_idx, c_idx, strict=True):
            if c >= history:
                estimates.append(
                    (
                        int(meters[rows_i[r]]["id"]),
                        start + timedelta(hours=int(c - history)),
                        float(est.values[r, c]),
                        EstimateMethod(int(est.method[r, c])).name.lower(),
                    )
                )
    compute_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    ids = [m["id"] for m in meters]
    anomalies = [
        (
            a.type.value,
            a.severity.name.lower(),
            a.service,
            ids[a.meter_index] if a.meter_index is not None else None,
            houses[a.house_index] if a.house_index is not None else None,
            a.start,
            a.end,
            json.dumps(a.evidence, ensure_ascii=False, default=float),
        )
        for a in result.anomalies
    ]
    bal = result.balance
    local_day0 = datetime(year, month, 1).date()
    balance_rows = [
        (
            houses[int(bal.house[g])],
            SERVICES[int(bal.service[g])],
            local_day0 + timedelta(days=d),
            None if not np.isfinite(bal.house_daily[g, d]) else float(bal.house_daily[g, d]),
            float(bal.premises_daily[g, d]),
            None if not np.isfinite(bal.ratio[g, d]) else float(bal.ratio[g, d]),
        )
        for g in range(len(bal.house))
        for d in range(bal.house_daily.shape[1])
    ]
    period_date = date(year, month, 1)
    async with store_errors("write VEE results"), conn.transaction():
        await conn.execute("DELETE FROM vee_runs WHERE period = $1", period_date)
        run_id = await conn.fetchval(
            "INSERT INTO vee_runs (period, started_at, meters, readings, off_grid, anomalies,"
            " estimates, load_s, compute_s, write_s) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,0)"
            " RETURNING id",
            period_date, started, n, len(rows), off_grid, len(anomalies), len(estimates),
            load_s, compute_s,
        )  # fmt: skip
        await conn.executemany(
            "INSERT INTO anomalies (run_id, period, type, severity, service, meter_id, house_id,"
            " starts, ends, evidence) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::jsonb)",
            [(run_id, period_date, *a) for a in anomalies],
        )
        await conn.copy_records_to_table(
            "vee_house_balance",
            records=[(period_date, *b, run_id) for b in balance_rows],
            columns=("period", "house_id", "service", "day", "house_volume", "premises_volume",
                     "ratio", "run_id"),
        )  # fmt: skip
        if estimates:
            await conn.execute(
                "DELETE FROM estimates WHERE ts >= $1 AND ts < $2"
                " AND meter_id = ANY($3::integer[])",
                start, nxt, list({e[0] for e in estimates}),
            )  # fmt: skip
            await conn.copy_records_to_table(
                "estimates",
                records=[(*e, run_id) for e in estimates],
                columns=("meter_id", "ts", "value", "method", "run_id"),
            )
        write_s = time.perf_counter() - t2
        await conn.execute("UPDATE vee_runs SET write_s = $1 WHERE id = $2", write_s, run_id)
    counts: dict[str, int] = {}
    for a in result.anomalies:
        counts[a.type.value] = counts.get(a.type.value, 0) + 1
    return VeeReport(
        period=period,
        run_id=run_id,
        meters=n,
        readings=len(rows),
        off_grid=off_grid,
        anomalies=counts,
        estimates=len(estimates),
        houses_balanced=len(bal.house),
        load_s=load_s,
        compute_s=compute_s,
        write_s=write_s,
    )


async def list_anomalies(
    conn: asyncpg.Connection,
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
    async with store_errors("list anomalies"):
        rows = await conn.fetch(
            "SELECT a.id, a.period, a.type, a.severity, a.service, a.house_id,"
            " m.source || ':' || m.external_id || ':' || m.channel AS meter,"
            " a.starts, a.ends, a.evidence FROM anomalies a LEFT JOIN meters m ON m.id = a.meter_id"
            " WHERE ($1::date IS NULL OR a.period = $1) AND ($2::text IS NULL OR a.type = $2)"
            " AND ($3::text IS NULL OR a.house_id = $3)"
            " AND ($4::text IS NULL OR m.external_id = $4)"
            " AND ($5::text IS NULL OR a.severity = $5)"
            " ORDER BY a.period DESC, a.house_id NULLS LAST, a.id LIMIT $6",
            period_date, type, house, meter, severity, limit,
        )  # fmt: skip
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
