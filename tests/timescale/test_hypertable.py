"""The readings store on both physical layouts: a TimescaleDB hypertable (compressed chunks,
the ``readings_daily`` continuous aggregate) and native range partitioning (PostgreSQL 15).

Each behavioural test runs on both and must give the same answers. TimescaleDB's background
jobs do not run in the PGlite build, so compression and refresh are called explicitly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import asyncpg
import numpy as np
import pytest

import adapters.store.migrations as migrations
from adapters.store import ReadingStore, migrate
from adapters.store.daily import daily, refresh

pytestmark = [pytest.mark.timescale, pytest.mark.postgres]


@pytest.fixture(params=["native", "timescale"])
def empty(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(layout, DSN of an empty database): PostgreSQL 15 or the TimescaleDB test service."""
    return request.param, request.getfixturevalue(
        "db_url" if request.param == "native" else "timescale_url"
    )


@pytest.fixture
async def layout(empty: tuple[str, str]) -> str:
    """A migrated, empty database on one layout."""
    name, url = empty
    conn = await asyncpg.connect(url)
    try:
        report = await migrate(conn)
    finally:
        await conn.close()
    assert report.physical.startswith("timescaledb") == (name == "timescale")
    return url


async def test_migrations_fresh_from_an_older_version_and_again(timescale_url, monkeypatch):
    conn = await asyncpg.connect(timescale_url)
    try:
        full = list(migrations.MIGRATIONS)
        monkeypatch.setattr(migrations, "MIGRATIONS", full[:3])
        older = await migrate(conn)
        monkeypatch.setattr(migrations, "MIGRATIONS", full)
        newer = await migrate(conn)
        again = await migrate(conn)
        jobs = {
            r["proc_name"]
            for r in await conn.fetch("SELECT proc_name FROM timescaledb_information.jobs")
        }
        compression = {
            r["attname"]: (r["segmentby_column_index"], r["orderby_column_index"])
            for r in await conn.fetch(
                "SELECT attname, segmentby_column_index, orderby_column_index"
                " FROM timescaledb_information.compression_settings"
                " WHERE hypertable_name = 'readings'"
            )
        }
        realtime = await conn.fetchval(
            "SELECT NOT materialized_only FROM timescaledb_information.continuous_aggregates"
            " WHERE view_name = 'readings_daily'"
        )
        interval = await conn.fetchval(
            "SELECT time_interval FROM timescaledb_information.dimensions"
            " WHERE hypertable_name = 'readings'"
        )
    finally:
        await conn.close()
    assert older.physical == "timescaledb hypertable" and len(older.applied) == 3
    assert len(newer.applied) == len(full) - 3 and not again.applied
    assert {"policy_compression", "policy_refresh_continuous_aggregate"} <= jobs
    assert compression["meter_id"][0] == 1 and compression["ts"][1] == 1
    assert realtime is True
    assert interval == timedelta(days=7)


DAY0 = datetime(2026, 1, 5, tzinfo=UTC)


def _hourly(meter_ids: list[int], days: int, start: float = 100.0):
    """Register readings every hour; each meter's register grows by (meter index + 1)/hour."""
    hours = days * 24
    meter = np.repeat(np.array(meter_ids, dtype=np.int32), hours)
    base_us = int(DAY0.timestamp()) * 1_000_000
    ts = np.tile(base_us + np.arange(hours, dtype=np.int64) * 3_600_000_000, len(meter_ids))
    step = np.repeat(np.arange(1, len(meter_ids) + 1, dtype=np.float64), hours)
    value = start + step * np.tile(np.arange(hours, dtype=np.float64), len(meter_ids))
    zeros16 = np.zeros(len(meter), dtype=np.int16)
    return meter, ts, value, zeros16, np.zeros(len(meter), dtype=np.int32)


async def _compress_all(store: ReadingStore) -> int:
    if store.native:
        return 0
    async with store.pool.acquire() as conn:
        return len(
            await conn.fetch(
                "SELECT compress_chunk(c, if_not_compressed => true) FROM show_chunks('readings') c"
            )
        )


async def test_duplicates_conflicts_and_corrections_into_compressed_chunks(layout):
    store = await ReadingStore.open(layout)
    try:
        keys = [("mqtt", f"m{i}", "cold_water") for i in range(3)]
        meters = await store.resolve(keys, register=True)
        ids = [meters[k].id for k in keys]
        cols = _hourly(ids, 10)
        first = await store.write_arrays(*cols, None, [], source="mqtt")
        compressed = await _compress_all(store)
        # The same file again, half of it; a third meter's last day with other values.
        half = tuple(c[: len(c) // 2] for c in cols)
        again = await store.write_arrays(*half, None, [], source="mqtt")
        n = 24
        other = list(c[-n:].copy() for c in cols)
        other[2] = other[2] + 0.5
        conflict = await store.write_arrays(*other, None, [], source="mqtt")
        fixed = list(c[-n:].copy() for c in cols)
        fixed[2] = fixed[2] + 1.0
        correction = await store.write_arrays(
            *fixed, None, [], source="mqtt", mode="supersede", correction_ref=None
        )
        async with store.pool.acquire() as conn:
            total = await conn.fetchval("SELECT count(*) FROM readings")
            conflicts = await conn.fetchval("SELECT count(*) FROM conflicts")
            corrections = await conn.fetchval("SELECT count(*) FROM corrections")
            last = await conn.fetchval(
                "SELECT value FROM readings WHERE meter_id = $1 ORDER BY ts DESC LIMIT 1", ids[2]
            )
            dups = await conn.fetchval(
                "SELECT value FROM ingest_counters WHERE name = 'duplicates'"
            )
    finally:
        await store.close()
    assert compressed == (0 if store.native else 2)  # 10 days: two 7-day chunks
    assert (first.inserted, first.duplicates) == (720, 0)
    assert (again.inserted, again.duplicates, again.conflicts) == (0, 360, 0)
    assert (conflict.inserted, conflict.conflicts, conflict.duplicates) == (0, 24, 0)
    assert (correction.inserted, correction.superseded) == (0, 24)
    assert (total, conflicts, corrections, dups) == (720, 24, 24, 360)
    assert last == cols[2][-1] + 1.0


async def test_daily_figures_are_the_same_on_both_layouts(layout):
    store = await ReadingStore.open(layout)
    try:
        keys = [("mqtt", "d1", "cold_water"), ("mqtt", "d2", "hot_water")]
        meters = await store.resolve(keys, register=True)
        reg, interval = (meters[k].id for k in keys)
        meter, ts, value, kind, flags = _hourly([reg], 9)
        await store.write_arrays(meter, ts, value, kind, flags, None, [], source="mqtt")
        # An interval meter: 0.25 every hour for 3 days (kind 1).
        hours = 72
        its = ts[:hours]
        await store.write_arrays(
            np.full(hours, interval, np.int32), its, np.full(hours, 0.25), np.ones(hours, np.int16),
            np.zeros(hours, np.int32), None, [], source="mqtt",
        )  # fmt: skip
        await _compress_all(store)
        async with store.pool.acquire() as conn:
            await refresh(conn)
            # A correction into a compressed, materialized day shows after the refresh.
            fixed = (meter[47:48], ts[47:48], value[47:48] + 10, kind[47:48], flags[47:48])
        await store.write_arrays(*fixed, None, [], source="mqtt", mode="supersede")
        async with store.pool.acquire() as conn:
            await refresh(conn, date(2026, 1, 5), date(2026, 1, 7))
            days = await daily(conn, [reg, interval], date(2026, 1, 6), date(2026, 1, 20))
    finally:
        await store.close()
    by = {(d.meter_id, d.day): d for d in days}
    assert sorted(d.day for d in days if d.meter_id == reg) == [
        date(2026, 1, 5) + timedelta(days=i) for i in range(1, 9)
    ]
    # The register grows 1/hour: 24 a day; the last value of Jan 5 is 123 (hour 23). The last
    # reading of Jan 6 (hour 47) was corrected by +10 after compression and a refresh.
    assert by[(reg, date(2026, 1, 6))].last_value == 100 + 47 + 10
    assert by[(reg, date(2026, 1, 6))].consumption == 34
    assert by[(reg, date(2026, 1, 7))].consumption == 14
    assert by[(reg, date(2026, 1, 6))].readings == 24
    assert by[(interval, date(2026, 1, 7))].consumption == pytest.approx(6.0, rel=1e-12)
    assert (interval, date(2026, 1, 8)) not in by
    assert by[(reg, date(2026, 1, 13))].consumption == 24


async def test_daily_figures_of_data_after_the_last_refresh_are_answered_too(layout):
    store = await ReadingStore.open(layout)
    try:
        meters = await store.resolve([("mqtt", "late", "cold_water")], register=True)
        mid = meters[("mqtt", "late", "cold_water")].id
        meter, ts, value, kind, flags = _hourly([mid], 3)
        await store.write_arrays(meter, ts, value, kind, flags, None, [], source="mqtt")
        async with store.pool.acquire() as conn:
            days = await daily(conn, [mid], date(2026, 1, 1), date(2026, 1, 31))
    finally:
        await store.close()
    assert [(d.day, d.readings, d.consumption) for d in days] == [
        (date(2026, 1, 5), 24, None),
        (date(2026, 1, 6), 24, 24.0),
        (date(2026, 1, 7), 24, 24.0),
    ]
