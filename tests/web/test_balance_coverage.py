"""The dashboard's house balance compares like with like (issue #20): a house where not every
premise meter has daily data shows its coverage and no imbalance (real PostgreSQL)."""

from __future__ import annotations

from datetime import date

import asyncpg
import pytest

from adapters.store.dashboard import house_imbalances
from api.runtime import migrate_url

pytestmark = pytest.mark.postgres


async def test_partial_coverage_is_shown_not_compared(db_url) -> None:
    await migrate_url(db_url)
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute(
            "INSERT INTO houses (id, address)"
            " VALUES ('hA', 'ул. Полная, 1'), ('hB', 'ул. Частичная, 2'), ('hC', 'ул. Без ОДПУ, 3')"
        )
        run = await conn.fetchval(
            "INSERT INTO vee_runs (period, started_at, meters, readings, off_grid, anomalies,"
            " estimates, load_s, compute_s, write_s)"
            " VALUES ('2026-11-01', now(), 0, 0, 0, 0, 0, 0, 0, 0) RETURNING id"
        )
        # hA: all 40 premise meters with daily data, 10 % lost; hB: 8 of 40 — its premises'
        # side is a partial sum (a "75 % loss" that is not there)
        # hC: its house meter sent nothing (no ОДПУ data is not an ОДПУ reading 0)
        rows = [
            ("hA", 10.0, 9.0, 0.1, 40, 40),
            ("hB", 10.0, 2.5, None, 8, 40),
            ("hC", None, 4.0, None, 30, 40),
        ] * 10
        await conn.executemany(
            "INSERT INTO vee_house_balance (period, house_id, service, day, house_volume,"
            " premises_volume, ratio, premises_with_data, premises_total, run_id)"
            " VALUES ('2026-11-01', $1, 'cold_water', $2, $3, $4, $5, $6, $7, $8)",
            [
                (h, date(2026, 11, i // 2 + 1), hv, pv, r, c, t, run)
                for i, (h, hv, pv, r, c, t) in enumerate(rows)
            ],
        )
        found = {h.house: h for h in await house_imbalances(conn)}
    finally:
        await conn.close()
    assert found["hA"].covered and found["hA"].ratio == pytest.approx(0.1)
    assert not found["hB"].covered and found["hB"].ratio is None
    assert (found["hB"].premises_with_data, found["hB"].premises_total) == (8, 40)
    assert found["hA"].house_volume == pytest.approx(100.0)
    assert found["hC"].house_volume is None and found["hC"].ratio is None
    assert next(iter(found)) == "hA"  # a compared house first
