"""Houses, premises, meters and readings written straight into a migrated test database."""

from __future__ import annotations

from datetime import datetime

import asyncpg


async def seed(conn: asyncpg.Connection, accounts: int, meters_each: int = 2) -> None:
    await conn.execute("CREATE TABLE readings_all PARTITION OF readings DEFAULT")
    await conn.execute("INSERT INTO houses (id, address) VALUES ('h1', 'ул. Ленина, 1')")
    for i in range(accounts):
        await conn.execute(
            "INSERT INTO premises (id, house_id, account, area) VALUES ($1, 'h1', $2, 50)",
            f"p{i}", f"ls{i}",
        )  # fmt: skip
        for j, service in enumerate(("cold_water", "hot_water")[:meters_each]):
            await conn.execute(
                """INSERT INTO meters (source, external_id, channel, service, unit, premise_id)
                   VALUES ('mqtt', $1, 'v', $2, 'm3', $3)""",
                f"m{i}-{j}", service, f"p{i}",
            )  # fmt: skip


async def add_reading(conn: asyncpg.Connection, external_id: str, ts: datetime) -> None:
    await conn.execute(
        """INSERT INTO readings (meter_id, ts, value)
           SELECT id, $2, 1.0 FROM meters WHERE external_id = $1""",
        external_id, ts,
    )  # fmt: skip
