"""The meter registry: (source, external id, channel) -> meter row, cached in memory.

A meter that a source names for the first time is either registered *unbound* (no premise
yet; an operator binds it later) or left unknown so the caller quarantines its readings
(setting ``unknown_meters``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from core.channels import canonical_unit, service_of

MeterKey = tuple[str, str, str]  # (source, external_id, channel)


@dataclass(frozen=True, slots=True)
class Meter:
    id: int
    source: str
    external_id: str
    channel: str
    service: str
    premise_id: str | None
    capacity_digits: int | None
    max_rate: float | None


METER_COLUMNS = "id, source, external_id, channel, service, premise_id, capacity_digits, max_rate"


def _meter(row: asyncpg.Record) -> Meter:
    return Meter(*row)  # the columns of METER_COLUMNS, in Meter's field order


class Registry:
    """Looks meters up by key, registering unknown ones when told to."""

    def __init__(self) -> None:
        self._cache: dict[MeterKey, Meter] = {}
        self.lookup = self._cache.get
        """The cached meter of a key, or None (a bound method: the hot path calls it per row)."""
        self.ids: dict[MeterKey, int] = {}
        """Key -> meter id of the cached meters (the hot path maps rows to ids in C)."""
        self.by_id: dict[int, Meter] = {}
        self.generation = 0
        """Bumped by :meth:`forget`: caches derived from meter rows must be rebuilt."""

    def cached(self, key: MeterKey) -> Meter | None:
        return self._cache.get(key)

    def forget(self) -> None:
        """Drops the cache (after an operator binds or edits meters)."""
        self._cache.clear()
        self.ids.clear()
        self.by_id.clear()
        self.generation += 1

    async def resolve(
        self, conn: asyncpg.Connection, keys: Iterable[MeterKey], *, register: bool
    ) -> dict[MeterKey, Meter]:
        wanted = set(keys)
        found = {k: m for k in wanted if (m := self._cache.get(k)) is not None}
        missing = [k for k in wanted if k not in found]
        if not missing:
            return found
        # Look up first: most keys not in this process's cache exist already (another
        # gateway, an earlier run), and an INSERT per known key would cost a conflict each.
        await self._select(conn, missing, found)
        absent = sorted(k for k in missing if k not in found)
        if absent and register:
            sources, ids, channels = (list(col) for col in zip(*absent, strict=True))
            await conn.execute(
                "INSERT INTO meters (source, external_id, channel, service, unit)"
                " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])"
                " ON CONFLICT (source, external_id, channel) DO NOTHING",
                sources,
                ids,
                channels,
                [service_of(c) for c in channels],
                [canonical_unit(c) for c in channels],
            )
            await self._select(conn, absent, found)
        return found

    async def _select(
        self, conn: asyncpg.Connection, keys: list[MeterKey], found: dict[MeterKey, Meter]
    ) -> None:
        sources, ids, channels = (list(col) for col in zip(*keys, strict=True))
        rows = await conn.fetch(
            f"SELECT {METER_COLUMNS} FROM meters m JOIN unnest($1::text[], $2::text[], $3::text[])"
            " AS k(source, external_id, channel) USING (source, external_id, channel)",
            sources,
            ids,
            channels,
        )
        for row in rows:
            meter = _meter(row)
            key = (meter.source, meter.external_id, meter.channel)
            self._cache[key] = meter
            self.ids[key] = meter.id
            self.by_id[meter.id] = meter
            found[key] = meter
