"""Batch VEE a block of houses at a time (issue #20: memory bounded on a city) stores exactly
what one pass over the whole fleet stores: anomalies, the house balance, interval estimates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import numpy as np
import pytest

from adapters.store import ReadingStore
from api.runtime import migrate_url
from core.vee import VeeSettings
from ingest.vee import house_blocks, run_vee
from tests.vee_store.test_vee_store import _load_history

pytestmark = pytest.mark.postgres

START = datetime(2024, 12, 31, 21, tzinfo=UTC)


async def _add_interval_and_houseless(store: ReadingStore, history) -> None:  # type: ignore[no-untyped-def]
    """Hourly interval values (with gaps to estimate) for three meters of different houses,
    and a meter of no house."""
    fleet = history.fleet
    picks = [int(np.flatnonzero(fleet.house == h)[0]) for h in (0, 2, 5)]
    rows = []
    for i in picks:
        name = fleet.meter_ids[i]
        meter = store.registry.lookup(("sim", name, "electricity"))
        if meter is None:
            meter = (await store.resolve([("sim", name, "electricity")], register=True))[
                ("sim", name, "electricity")
            ]
        use = np.diff(np.nan_to_num(fleet.register[i], nan=0.0)).clip(min=0)
        for t in range(use.size):
            if t % 97 not in (5, 6, 7):  # a few gaps of three hours
                rows.append((meter.id, START + timedelta(hours=t), float(use[t]), 1, 0, None))
    lone = (await store.resolve([("sim", "lone", "cold_water")], register=True))[
        ("sim", "lone", "cold_water")
    ]
    rows += [(lone.id, START + timedelta(hours=t), 5.0 + t * 0.01, 0, 0, None) for t in range(700)]
    await store.write(rows, [], source="sim")


async def _stored(db_url: str) -> dict[str, object]:
    conn = await asyncpg.connect(db_url)
    try:
        anomalies = await conn.fetch(
            "SELECT type, severity, service, meter_id, house_id, starts, ends, evidence::text"
            " FROM anomalies ORDER BY 1, 2, 3, 4, 5, 6, 7, 8"
        )
        balance = await conn.fetch(
            "SELECT house_id, service, day, house_volume, premises_volume, ratio,"
            " premises_with_data, premises_total FROM vee_house_balance ORDER BY 1, 2, 3"
        )
        estimates = await conn.fetch(
            "SELECT meter_id, ts, value, method FROM estimates ORDER BY 1, 2"
        )
        runs = await conn.fetch(
            "SELECT meters, readings, off_grid, anomalies, estimates FROM vee_runs"
        )
    finally:
        await conn.close()
    return {
        "anomalies": [tuple(r) for r in anomalies],
        "balance": [tuple(r) for r in balance],
        "estimates": [tuple(r) for r in estimates],
        "runs": [tuple(r) for r in runs],
    }


async def test_blocks_of_houses_store_what_one_pass_stores(db_url: str) -> None:
    await migrate_url(db_url)
    history = await _load_history(db_url)
    store = await ReadingStore.open(db_url)
    settings = VeeSettings(stuck_days=14, missing_min_hours=1)
    try:
        await _add_interval_and_houseless(store, history)
        whole = await run_vee(store, "2025-01", settings=settings, chunk_houses=1000)
        one = await _stored(db_url)
        steps: list[tuple[int, int]] = []
        blocks = await run_vee(
            store,
            "2025-01",
            settings=settings,
            chunk_houses=2,
            on_progress=lambda d, t: steps.append((d, t)),
        )
        many = await _stored(db_url)
    finally:
        await store.close()
    assert whole.blocks == 1 and blocks.blocks == 4  # 6 houses and "no house", by 2
    assert steps == [(k, 12) for k in range(1, 13)]
    assert one["estimates"] and one["balance"] and len(one["anomalies"]) > 10
    assert {a[4] for a in one["anomalies"] if a[4]} and any(a[3] for a in one["anomalies"])
    assert many == one
    assert (blocks.meters, blocks.readings, blocks.anomalies, blocks.estimates) == (
        whole.meters,
        whole.readings,
        whole.anomalies,
        whole.estimates,
    )
    assert blocks.houses_balanced == whole.houses_balanced > 0


def test_house_blocks_keep_houses_whole() -> None:
    from core.vee.assemble import VeeMeter

    def m(i: int, house: str | None) -> VeeMeter:
        return VeeMeter(i, "s", f"m{i}", "c", "cold_water", None, house, False)

    meters = [m(1, "a"), m(2, "a"), m(3, "b"), m(4, "c"), m(5, "c"), m(6, None), m(7, None)]
    got = [[x.id for x in b] for b in house_blocks(meters, 2)]
    assert got == [[1, 2, 3], [4, 5, 6, 7]]
    assert [[x.id for x in b] for b in house_blocks(meters, 1)] == [[1, 2], [3], [4, 5], [6, 7]]
    assert house_blocks([], 3) == []
