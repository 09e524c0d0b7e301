"""Batch VEE over the store: a simulated month with injected faults, found and stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest

from adapters.store import ReadingStore
from adapters.store.vee import list_anomalies
from api.cli import main
from api.runtime import migrate_url
from core.vee import VeeSettings
from core.vee.codes import AnomalyType
from ingest.vee import run_vee
from simulators.history import FaultRates, readings, simulate_history

pytestmark = pytest.mark.postgres

TARGETS = (AnomalyType.SPIKE, AnomalyType.STUCK, AnomalyType.ROLLBACK)


async def _load_history(db_url: str):
    history = simulate_history(
        seed=3,
        houses=6,
        days=31,
        start=datetime(2024, 12, 31, 21, tzinfo=UTC),  # 2025-01-01 00:00 Moscow
        faults=FaultRates(spike=0.05, stuck=0.05, rollback=0.05, stuck_days=(16, 22)),
    )
    fleet = history.fleet
    store = await ReadingStore.open(db_url)
    try:
        batch = list(readings(history, source="sim"))
        keys = {(r.source, r.meter, r.channel) for r in batch}
        meters = await store.resolve(list(keys), register=True)
        rows = [
            (meters[(r.source, r.meter, r.channel)].id, r.ts, r.value, 0, 0, None) for r in batch
        ]
        for i in range(0, len(rows), 50_000):
            await store.write(rows[i : i + 50_000], [], source="sim")
        async with store.pool.acquire() as conn:
            houses = sorted({int(h) for h in fleet.house})
            await conn.executemany(
                "INSERT INTO houses (id, common_area) VALUES ($1, 100)",
                [(f"h{h}",) for h in houses],
            )
            for i, name in enumerate(fleet.meter_ids):
                house = f"h{int(fleet.house[i])}"
                if fleet.is_house_meter[i]:
                    await conn.execute(
                        "UPDATE meters SET house_id = $1 WHERE external_id = $2", house, name
                    )
                else:
                    await conn.execute(
                        "INSERT INTO premises (id, house_id, area) VALUES ($1, $2, 50)"
                        " ON CONFLICT DO NOTHING",
                        f"p-{name}", house,
                    )  # fmt: skip
                    await conn.execute(
                        "UPDATE meters SET premise_id = $1 WHERE external_id = $2",
                        f"p-{name}",
                        name,
                    )
    finally:
        await store.close()
    return history


async def test_vee_run_finds_injected_faults_and_is_idempotent(db_url):
    await migrate_url(db_url)
    history = await _load_history(db_url)
    names = history.fleet.meter_ids
    truth = {(t.kind.value, names[t.meter]) for t in history.truth if t.kind in TARGETS}
    assert {k for k, _ in truth} == {t.value for t in TARGETS}  # every target type injected
    store = await ReadingStore.open(db_url)
    conn = await asyncpg.connect(db_url)
    try:
        report = await run_vee(store, "2025-01", settings=VeeSettings(stuck_days=14))
        again = await run_vee(store, "2025-01", settings=VeeSettings(stuck_days=14))
        stored = await list_anomalies(store, period="2025-01")
        runs = await conn.fetchval("SELECT count(*) FROM vee_runs")
        balance_days = await conn.fetchval("SELECT count(DISTINCT day) FROM vee_house_balance")
    finally:
        await conn.close()
        await store.close()
    assert report.meters == len(names) and report.off_grid == 0
    assert again.anomalies == report.anomalies and runs == 1  # a re-run replaces, not adds
    found = {
        (a["type"], a["meter"].split(":")[1])
        for a in stored
        if a["type"] in {t.value for t in TARGETS}
    }
    hits = truth & found
    assert len(hits) / len(truth) >= 0.9, truth - found
    assert len(hits) / len(found) >= 0.9, found - truth
    assert balance_days == 31


async def test_anomalies_command_filters_and_prints_json(db_url, monkeypatch, capsys):
    await migrate_url(db_url)
    await _load_history(db_url)
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    assert await asyncio.to_thread(main, ["vee", "--period", "2025-01", "--stuck-days", "14"]) == 0
    out = capsys.readouterr().out
    assert "\n  аномалии: " in out and "stuck_meter" in out
    assert await asyncio.to_thread(main, ["anomalies", "--period", "2025-01", "--limit", "3"]) == 0
    text = capsys.readouterr().out.splitlines()
    # a meter or a house named in Russian; times local (Moscow) with their offset
    assert text and all((" счётчик " in t or " дом " in t) and "+03:00 .. " in t for t in text)
    code = await asyncio.to_thread(
        main, ["anomalies", "--period", "2025-01", "--type", "stuck_meter", "--json"]
    )
    lines = [line for line in capsys.readouterr().out.splitlines() if line]
    assert code == 0 and lines
    import json

    docs = [json.loads(line) for line in lines]
    assert {d["type"] for d in docs} == {"stuck_meter"}
    assert all(d["evidence"] for d in docs)
    assert await asyncio.to_thread(main, ["vee", "--period", "2025-13"]) == 2


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 3, 2, 12, tzinfo=UTC), ["2026-02", "2026-03"]),
        (datetime(2026, 3, 20, 12, tzinfo=UTC), ["2026-03"]),
        (datetime(2026, 1, 3, 12, tzinfo=UTC), ["2025-12", "2026-01"]),
        (datetime(2026, 2, 28, 22, tzinfo=UTC), ["2026-02", "2026-03"]),  # March 1st, Moscow
    ],
)
def test_scheduled_periods(now, expected):
    from ingest.schedule import due_periods

    assert due_periods(now, "Europe/Moscow") == expected


async def test_gateway_runs_vee_on_schedule(db_url):
    from core.config import Settings
    from ingest.gateway import Gateway

    await migrate_url(db_url)
    stop, ready = asyncio.Event(), asyncio.Event()
    gw = Gateway(Settings(vee_interval_s=0.2), db_url)
    task = asyncio.create_task(gw.run(stop, ready=ready))
    await ready.wait()
    conn = await asyncpg.connect(db_url)
    try:
        for _ in range(100):
            if await conn.fetchval("SELECT count(*) FROM vee_runs"):
                break
            await asyncio.sleep(0.05)
        runs = await conn.fetchval("SELECT count(*) FROM vee_runs")
    finally:
        await conn.close()
        stop.set()
        await task
    assert runs >= 1
