"""Monthly partitions of the native ``readings`` table, created on demand before a write."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import asyncpg

_LOCK_KEY = 0x70617274  # "part": serialises partition creation across gateways


def _next_month(m: datetime) -> datetime:
    return datetime(m.year + m.month // 12, m.month % 12 + 1, 1, tzinfo=UTC)


class Partitions:
    """Remembers which monthly partitions exist; makes the missing ones inside a transaction."""

    def __init__(self) -> None:
        self._known: set[datetime] = set()
        self._pending: list[datetime] = []

    async def ensure(self, conn: asyncpg.Connection, months: Iterable[datetime]) -> None:
        missing = sorted(set(months) - self._known)
        if not missing:
            return
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        for m in missing:
            name = f"readings_y{m.year:04d}m{m.month:02d}"
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF readings "
                f"FOR VALUES FROM ('{m.isoformat()}') TO ('{_next_month(m).isoformat()}')"
            )
        # Only remember them once the transaction commits; a rollback forgets nothing wrong,
        # since IF NOT EXISTS makes the next attempt cheap.
        self._pending = missing

    def rolled_back(self) -> None:
        self._pending = []

    def committed(self) -> None:
        self._known.update(self._pending)
        self._pending = []
