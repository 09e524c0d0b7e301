"""Daily figures per meter, from ``readings_daily`` on TimescaleDB, from ``readings`` otherwise.

Both layouts answer the same question the same way: per meter and UTC day (the aggregate's
buckets) the number of readings, the last register value of the day, the sum of interval
values (kind 1), and the day's consumption — the interval sum, or for registers the last value
of the day minus the last value before the day (None for a meter's first day).

On TimescaleDB the continuous aggregate answers (real-time since migration 12); a reading
written into a day that is already materialized (late data, a correction) shows after the next
refresh: the hourly policy, or :func:`refresh`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import asyncpg

from adapters.store.db import store_errors


@dataclass(frozen=True, slots=True)
class Day:
    meter_id: int
    day: date
    readings: int
    last_value: float
    interval_sum: float | None
    consumption: float | None


_FROM_AGGREGATE = """
SELECT meter_id, (day AT TIME ZONE 'UTC')::date AS day, n, last_value, interval_sum
FROM readings_daily
WHERE meter_id = ANY($1::integer[]) AND day >= $2 AND day < $3
"""

_FROM_READINGS = """
SELECT meter_id, (date_trunc('day', ts, 'UTC') AT TIME ZONE 'UTC')::date AS day,
       count(*) AS n, (array_agg(value ORDER BY ts DESC))[1] AS last_value,
       sum(value) FILTER (WHERE kind = 1) AS interval_sum
FROM readings
WHERE meter_id = ANY($1::integer[]) AND ts >= $2 AND ts < $3
GROUP BY 1, 2
"""

_BEFORE = """
SELECT m AS meter_id,
       (SELECT value FROM readings WHERE meter_id = m AND ts < $2 ORDER BY ts DESC LIMIT 1)
         AS value
FROM unnest($1::integer[]) AS m
"""


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(), tzinfo=UTC)


async def physical(conn: asyncpg.Connection) -> str:
    return str(await conn.fetchval("SELECT value FROM uchet_meta WHERE key = 'physical'"))


async def daily(
    conn: asyncpg.Connection,
    meter_ids: Sequence[int],
    first: date,
    last: date,
    *,
    timescale: bool | None = None,
) -> list[Day]:
    """The days in [first, last] on which each meter has readings, ordered by meter and day.

    ``timescale``: the layout (None: read from ``uchet_meta``; pass ``store.native`` to save
    the look-up).
    """
    async with store_errors("daily figures"):
        if timescale is None:
            timescale = (await physical(conn)).startswith("timescaledb")
        ids = list(meter_ids)
        start, end = _midnight(first), _midnight(last + timedelta(days=1))
        rows = await conn.fetch(_FROM_AGGREGATE if timescale else _FROM_READINGS, ids, start, end)
        before = {r["meter_id"]: r["value"] for r in await conn.fetch(_BEFORE, ids, start)}
    out = []
    previous: dict[int, float | None] = dict(before)
    for r in sorted(rows, key=lambda r: (r["meter_id"], r["day"])):
        mid = r["meter_id"]
        if r["interval_sum"] is not None:
            consumption = r["interval_sum"]
        else:
            prev = previous.get(mid)
            consumption = None if prev is None else r["last_value"] - prev
        previous[mid] = r["last_value"]
        out.append(Day(mid, r["day"], r["n"], r["last_value"], r["interval_sum"], consumption))
    return out


async def refresh(
    conn: asyncpg.Connection, first: date | None = None, last: date | None = None
) -> None:
    """Materializes ``readings_daily`` for [first, last] (all days when None) on TimescaleDB,
    as its hourly policy would (that policy does not run in every deployment: call this);
    nothing on native partitioning. Not inside a transaction (TimescaleDB refuses)."""
    async with store_errors("refresh daily figures"):
        if not (await physical(conn)).startswith("timescaledb"):
            return
        start = _midnight(first) if first else None
        end = _midnight(last + timedelta(days=1)) if last else None
        await conn.execute(
            "CALL refresh_continuous_aggregate('readings_daily', $1::timestamptz, $2::timestamptz)",
            start,
            end,
        )
