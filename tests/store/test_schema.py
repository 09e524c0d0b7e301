"""The schema's two physical forms, migrations, and the compose file's configuration."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import yaml

from adapters.store import ReadingStore, migrate
from core.config import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.postgres
async def test_migrate_is_idempotent_and_native_partitions_are_made_on_demand(db_url):
    conn = await asyncpg.connect(db_url)
    try:
        first = await migrate(conn)
        again = await migrate(conn)
    finally:
        await conn.close()
    assert first.physical == "native range partitioning"
    assert first.applied and not again.applied
    assert again.version == first.version
    store = await ReadingStore.open(db_url)
    try:
        meters = await store.resolve([("mqtt", "p1", "cold_water")], register=True)
        mid = meters[("mqtt", "p1", "cold_water")].id
        rows = [
            (mid, datetime(2008, 2, 27, tzinfo=UTC), 1.0, 0, 0, None),
            (mid, datetime(2026, 3, 1, tzinfo=UTC), 2.0, 0, 0, None),
            (mid, datetime(2026, 3, 1, tzinfo=UTC), 2.0, 0, 0, None),  # same key, same batch
        ]
        result = await store.write(rows, [], source="mqtt")
        async with store.pool.acquire() as c:
            parts = {
                r["relname"]
                for r in await c.fetch(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                    " WHERE i.inhparent = 'readings'::regclass"
                )
            }
    finally:
        await store.close()
    assert (result.inserted, result.duplicates, result.conflicts) == (2, 1, 0)
    assert parts == {"readings_y2008m02", "readings_y2026m03"}


@pytest.mark.postgres
async def test_concurrent_migrations_do_not_collide(db_url):
    import asyncio

    async def one() -> str:
        conn = await asyncpg.connect(db_url)
        try:
            return (await migrate(conn)).physical
        finally:
            await conn.close()

    assert set(await asyncio.gather(one(), one(), one())) == {"native range partitioning"}


@pytest.mark.timescale
async def test_timescale_hypertable_compression_and_aggregate(timescale_url):
    """On a database that already holds the schema too: migrating again changes nothing."""
    url = timescale_url
    conn = await asyncpg.connect(url)
    try:
        report = await migrate(conn)
        again = await migrate(conn)
        assert report.physical == again.physical == "timescaledb hypertable"
        assert report.applied and not again.applied
        assert await conn.fetchval(
            "SELECT count(*) FROM timescaledb_information.hypertables"
            " WHERE hypertable_name = 'readings'"
        )
        assert await conn.fetchval(
            "SELECT count(*) FROM timescaledb_information.jobs"
            " WHERE proc_name = 'policy_compression'"
        )
    finally:
        await conn.close()
    store = await ReadingStore.open(url)
    try:
        meters = await store.resolve([("mqtt", "t1", "cold_water")], register=True)
        mid = meters[("mqtt", "t1", "cold_water")].id
        row = (mid, datetime(2026, 3, 1, tzinfo=UTC), 2.0, 0, 0, None)
        assert (await store.write([row, row], [], source="mqtt")).inserted == 1
    finally:
        await store.close()


def test_compose_uses_timescale_mosquitto_and_only_known_settings():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["db"]["image"].startswith("timescale/timescaledb:")
    assert services["broker"]["image"].startswith("eclipse-mosquitto:2")
    known = {f"UCHET_{name.upper()}" for name in Settings.model_fields}
    for name in ("gateway", "api"):
        env = services[name]["environment"]
        assert set(env) <= known, set(env) - known
        assert "healthcheck" in services[name]
    assert all("healthcheck" in s for s in services.values())
    conf = (ROOT / "docker" / "mosquitto.conf").read_text()
    assert "max_queued_messages 5000000" in conf
