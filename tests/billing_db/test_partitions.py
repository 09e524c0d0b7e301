"""Accruals partitioned by period (migration 19): a run swaps in the period's partition, so a
re-bill leaves no dead rows nor leftover tables; rows inserted for a period without a
partition are replaced by its run; runs of two periods at once both finish; rows billed
before the migration move to partitions of their own."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

import adapters.store.migrations as migrations
from adapters.store.billing_partition import partition_name
from api.runtime import migrate_url
from core.billing import METHODS, SERVICES, explanations
from core.billing.explain import explanation_chunks
from ingest.billing import bill_period
from tests.billing_db.convert import ingest
from tests.billing_db.helpers import TZ, accruals, bill, fetch, load, period

pytestmark = pytest.mark.postgres

MSK = ZoneInfo("Europe/Moscow")
_REFERENCE: dict[str, Any] = {
    "source": "mqtt",
    "houses": [{"id": "h1", "common_area": "100"}],
    "premises": [
        {
            "id": f"apt{i}",
            "house": "h1",
            "area": "50",
            "residents": 2,
            "meters": [{"meter": f"apt{i}-cw", "channel": "cold_water"}],
        }
        for i in (1, 2)
    ],
    "tariffs": [
        {"valid_from": "2025-01", "cold_water": "40.00", "hot_water": "200", "sewage": "30"}
    ],
    "normatives": [{"valid_from": "2020-01", "cold_water": "6.935", "hot_water": "4.745"}],
}


async def _billable(url: str) -> None:
    await load(url, _REFERENCE)
    await ingest(
        url,
        [
            (f"apt{i}-cw", "cold_water", datetime(2026, m, 20, 12, tzinfo=MSK), 10.0 * i + m)
            for i in (1, 2)
            for m in (1, 2, 3)
        ],
    )


_RUN = (
    "INSERT INTO billing_runs (period, started_at, premises, meters, lines, total, totals,"
    " load_s, compute_s, write_s) VALUES ('2026-03-01', now(), 0, 0, 0, 0, '{}', 0, 0, 0)"
)
_LINE = (
    "INSERT INTO accruals (period, premise_id, service, method, volume, tariff, coefficient,"
    " amount, explanation, run_id) VALUES ($1, $2, 'cold_water', 'meter', 1, 1, 1, 1, 'x', 1)"
)


async def _partitions(url: str) -> dict[str, str]:
    rows = await fetch(
        url,
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'accruals'::regclass",
    )
    return {r["relname"]: r["bound"] for r in rows}


async def _tables(url: str) -> set[str]:
    rows = await fetch(url, "SELECT relname FROM pg_class WHERE relname LIKE 'accruals%'")
    return {r["relname"] for r in rows}


async def test_a_rebill_swaps_the_partition_and_moves_rows_out_of_the_default(
    db_url: str,
) -> None:
    await migrate_url(db_url)
    await _billable(db_url)
    # a line written by hand for March (no partition yet): the default partition keeps it
    await fetch(db_url, _RUN)
    await fetch(db_url, _LINE, date(2026, 3, 1), "apt9")
    assert "accruals_p202603" not in await _partitions(db_url)
    await bill(db_url, "2026-02")
    first = await bill(db_url, "2026-03")
    lines = await accruals(db_url, "period = '2026-03-01'")
    assert {r["premise"] for r in lines} == {"apt1", "apt2"}  # the hand-made line is gone
    assert {r["run_id"] for r in lines} == {first.run_id}
    # the explanations, written a few lines at a time while the first are sent, are the
    # explanations of the lines in order
    assert first.result is not None and len(first.explanations) == first.lines == 6
    for size in (1, 3, 100):
        chunks = list(explanation_chunks(first.result, size))
        assert max(len(c) for c in chunks) <= size
        assert [t for c in chunks for t in c] == first.explanations == explanations(first.result)
    stored = {(r["premise"], r["service"], r["method"]): r["explanation"] for r in lines}
    a, ids = first.result.accruals, first.result.input.premises.ids
    assert [
        stored[(ids[p], SERVICES[s], METHODS[m])]
        for p, s, m in zip(a.premise.tolist(), a.service.tolist(), a.method.tolist(), strict=True)
    ] == first.explanations
    again = await bill(db_url, "2026-03")
    relines = await accruals(db_url, "period = '2026-03-01'")
    assert [{**r, "run_id": 0} for r in relines] == [{**r, "run_id": 0} for r in lines]
    assert {r["run_id"] for r in relines} == {again.run_id}
    parts = await _partitions(db_url)
    assert parts[partition_name(date(2026, 3, 1))] == "FOR VALUES IN ('2026-03-01')"
    assert parts[partition_name(date(2026, 2, 1))] == "FOR VALUES IN ('2026-02-01')"
    assert parts["accruals_default"] == "DEFAULT"
    assert len(parts) == 3
    # no leftover run tables; the new partition has no dead rows and its primary key
    tables = await _tables(db_url)
    assert not [t for t in tables if "_r" in t and not t.endswith("_pkey")], tables
    dead = await fetch(
        db_url,
        "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = $1",
        partition_name(date(2026, 3, 1)),
    )
    assert dead and dead[0]["n_dead_tup"] == 0
    with pytest.raises(asyncpg.UniqueViolationError):
        await fetch(
            db_url,
            "INSERT INTO accruals SELECT * FROM accruals WHERE period = '2026-03-01' LIMIT 1",
        )


async def test_two_periods_billed_at_once_both_finish(db_url: str) -> None:
    await migrate_url(db_url)
    await _billable(db_url)
    january = (await bill(db_url, "2026-01")).lines
    await bill(db_url, "2026-02")

    async def run(text: str) -> int:
        conn = await asyncpg.connect(db_url)
        try:
            return (await bill_period(conn, period(text), timezone=TZ)).lines
        finally:
            await conn.close()

    # many rounds: the swaps of both runs overlap in some of them (3 rounds hid a deadlock)
    for _ in range(30):
        counts = await asyncio.wait_for(asyncio.gather(run("2026-02"), run("2026-03")), 60)
        assert all(n > 0 for n in counts)
    rows = await fetch(db_url, "SELECT period, count(*) AS n FROM accruals GROUP BY period")
    assert {f"{r['period']:%Y-%m}": r["n"] for r in rows} == {
        "2026-01": january,
        "2026-02": counts[0],
        "2026-03": counts[1],
    }


async def test_rows_billed_before_the_migration_move_to_partitions(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = migrations.MIGRATIONS
    monkeypatch.setattr(migrations, "MIGRATIONS", [m for m in everything if m[0] < 19])
    await migrate_url(db_url)
    await _billable(db_url)
    # lines as the store held them before migration 19 (written straight into the table)
    await fetch(db_url, _RUN)
    for day in ("2026-01-01", "2026-02-01"):
        for premise in ("apt1", "apt2", "apt3"):
            await fetch(db_url, _LINE, date.fromisoformat(day), premise)
    before = await accruals(db_url)
    monkeypatch.setattr(migrations, "MIGRATIONS", everything)
    await migrate_url(db_url)
    assert await accruals(db_url) == before
    parts = await _partitions(db_url)
    assert set(parts) == {"accruals_p202601", "accruals_p202602", "accruals_default"}
    assert await fetch(db_url, "SELECT * FROM accruals_default") == []
    # a run of February replaces that partition; January stays as migrated
    await bill(db_url, "2026-02")
    after = await accruals(db_url)
    assert [r for r in after if r["period"] == "2026-01"] == before[:3]
    assert {r["premise"] for r in after if r["period"] == "2026-02"} == {"apt1", "apt2"}
    with pytest.raises(asyncpg.UniqueViolationError):
        await fetch(db_url, _LINE, date(2026, 1, 1), "apt1")
