"""Versioned, idempotent schema migrations.

``readings`` is one logical table with two physical forms chosen at migration time: a
TimescaleDB hypertable (with compression and a daily continuous aggregate) when the extension
is available, a native range-partitioned table (monthly partitions made on demand) otherwise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import asyncpg

from adapters.store.db import store_errors
from adapters.store.schema import MIGRATIONS, readings_ddl
from adapters.store.timescale_schema import TIMESCALE_UPGRADES

log = logging.getLogger(__name__)

_LOCK_KEY = 0x75636865  # "uche": one migrator at a time


@dataclass(frozen=True, slots=True)
class MigrationReport:
    applied: list[str]
    version: int
    physical: str  # "timescaledb hypertable" | "native range partitioning"


async def _timescale_available(conn: asyncpg.Connection) -> bool:
    row = await conn.fetchval(
        "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'"
    )
    return bool(row)


async def migrate(
    conn: asyncpg.Connection, *, use_timescale: bool | None = None
) -> MigrationReport:
    """Brings the schema to the newest version; safe to run any number of times, concurrently.

    ``use_timescale``: None chooses TimescaleDB when the server offers the extension.
    """
    async with store_errors("migrate"), conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS uchet_meta (key text PRIMARY KEY, value text NOT NULL)"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        physical = await conn.fetchval("SELECT value FROM uchet_meta WHERE key = 'physical'")
        if physical is None:
            if use_timescale is None:
                use_timescale = await _timescale_available(conn)
            physical = "timescaledb hypertable" if use_timescale else "native range partitioning"
            await conn.execute(
                "INSERT INTO uchet_meta (key, value) VALUES ('physical', $1)", physical
            )
        timescale = physical.startswith("timescaledb")
        applied = []
        for version, name, sql in sorted(MIGRATIONS):
            if version in done:
                continue
            await conn.execute(sql)
            if version == 1:
                await conn.execute(readings_ddl(timescale=timescale))
            if timescale and version in TIMESCALE_UPGRADES:
                await conn.execute(TIMESCALE_UPGRADES[version])
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name
            )
            applied.append(f"{version:03d}_{name}")
            log.info("applied migration %03d_%s", version, name)
        version = max(v for v, _, _ in MIGRATIONS)
    return MigrationReport(applied=applied, version=version, physical=physical)
