"""Seeds a store for the page tests: readings of two residents, two billed months, daily house
balances of three houses (one with an injected 35 % imbalance), an anomaly, an unbound meter
with a quarantined reading."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from adapters.store import ReadingStore
from adapters.store.writer import QuarantineRow
from core.billing.model import month_index
from ingest.billing import bill_period

TZ = ZoneInfo("Europe/Moscow")
LEAKY = "h-leak"  # the house whose imbalance is injected: it must come first on the dashboard


@dataclass(frozen=True)
class Seeded:
    meters: dict[str, int]  # serial -> meter id
    last: dict[str, float]  # serial -> last accepted register value
    periods: list[str]  # billed months, YYYY-MM, oldest first
    stray: int  # the unbound meter


def _month_start(months_back: int, now: datetime) -> datetime:
    y, m = now.year, now.month - months_back
    while m < 1:
        y, m = y - 1, m + 12
    return datetime(y, m, 1, 12, tzinfo=TZ)


async def seed(url: str) -> Seeded:
    now = datetime.now(UTC)
    store = await ReadingStore.open(url)
    try:
        async with store.pool.acquire() as conn:
            rows = await conn.fetch("SELECT id, external_id FROM meters")
        ids = {r["external_id"]: r["id"] for r in rows}
        series = {
            "apt1-cw": (100.0, 108.25, 115.5),
            "apt1-el": (4700.0, 4850.0, 5000.0),
            "apt3-cw": (40.0, 44.0, 47.0),
        }
        readings = []
        for serial, values in series.items():
            for back, value in zip((3, 2, 1), values, strict=True):
                readings.append((ids[serial], _month_start(back, now), value, 0, 0, None))
        # The last reading of the water meter: two days ago (kept in the current period).
        readings.append((ids["apt1-cw"], now - timedelta(days=2), 120.0, 0, 256, None))
        await store.write(readings, [], source="mqtt")
        stray_key = ("mqtt", "stray-7", "cold_water")
        stray = (await store.resolve([stray_key], register=True))[stray_key]
        payload = json.dumps(
            {"meter": "stray-7", "channel": "cold_water", "value": 3.5, "unit": "m3",
             "ts": (now - timedelta(hours=3)).isoformat()}
        ).encode()  # fmt: skip
        await store.write(
            [],
            [QuarantineRow("mqtt", "unknown_meter", "meter 'stray-7' unknown", "stray-7",
                           "cold_water", payload)],
            source="mqtt",
        )  # fmt: skip
    finally:
        await store.close()

    conn = await asyncpg.connect(url)
    try:
        periods = []
        for back in (3, 2):
            start = _month_start(back, now)
            await bill_period(conn, month_index(start.year, start.month), timezone=str(TZ))
            periods.append(f"{start:%Y-%m}")
        await _balances(conn, now.date())
    finally:
        await conn.close()
    last = {"apt1-cw": 120.0, "apt1-el": 5000.0, "apt3-cw": 47.0}
    return Seeded(ids, last, periods, stray.id)


async def _balances(conn: asyncpg.Connection, today: date) -> None:
    """Thirty days of daily balances: h1 loses 3 %, h2 1 %, the leaky house 35 %."""
    await conn.execute(
        "INSERT INTO houses (id, address) VALUES ('h2', 'г. Тверь, ул. Новая, д. 2'),"
        " ($1, 'г. Тверь, ул. Речная, д. 7')",
        LEAKY,
    )
    period = today.replace(day=1)
    run = await conn.fetchval(
        "INSERT INTO vee_runs (period, started_at, meters, readings, off_grid, anomalies,"
        " estimates, load_s, compute_s, write_s) VALUES ($1, now(), 0, 0, 0, 1, 0, 0, 0, 0)"
        " RETURNING id",
        period,
    )
    rows = []
    for house, loss in (("h1", 0.03), ("h2", 0.01), (LEAKY, 0.35)):
        for back in range(30):
            day = today - timedelta(days=30 - back)
            total = 100.0 + (back % 7) * 5
            rows.append(
                (day.replace(day=1), house, "cold_water", day, total, total * (1 - loss),
                 loss, run)
            )  # fmt: skip
    await conn.executemany(
        "INSERT INTO vee_house_balance (period, house_id, service, day, house_volume,"
        " premises_volume, ratio, run_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        rows,
    )
    await conn.execute(
        "INSERT INTO anomalies (run_id, period, type, severity, service, house_id, starts, ends,"
        " evidence) VALUES ($1, $2, 'house_imbalance', 'high', 'cold_water', $3,"
        " now() - interval '30 days', now(), '{\"ratio\": 0.35}')",
        run,
        period,
        LEAKY,
    )
