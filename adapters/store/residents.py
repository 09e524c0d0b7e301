"""The read queries of a resident's cabinet: the premise, its meters, a meter's history.

Every query is bound to the premise given: another premise's meter is not found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from adapters.store.connections import Connection
from adapters.store.db import store_errors


@dataclass(frozen=True, slots=True)
class Premise:
    id: str
    house_id: str
    address: str | None
    area: Decimal


@dataclass(frozen=True, slots=True)
class Reading:
    ts: datetime
    value: float
    flags: int


@dataclass(frozen=True, slots=True)
class PremiseMeter:
    id: int
    external_id: str
    service: str
    channel: str
    unit: str
    last: Reading | None  # the last accepted register reading


async def premise(conn: Connection, premise_id: str) -> Premise | None:
    async with store_errors("me"):
        row = await conn.fetchrow(
            "SELECT p.id, p.house_id, h.address, p.area FROM premises p"
            " JOIN houses h ON h.id = p.house_id WHERE p.id = $1",
            premise_id,
        )
    return None if row is None else Premise(**dict(row))


async def premise_meters(conn: Connection, premise_id: str) -> list[PremiseMeter]:
    """The meters of a premise by id, each with its last accepted register reading."""
    async with store_errors("list meters"):
        rows = await conn.fetch(
            "SELECT m.id, m.external_id, m.service, m.channel, m.unit, r.ts, r.value, r.flags"
            " FROM meters m LEFT JOIN LATERAL (SELECT ts, value, flags FROM readings"
            "  WHERE meter_id = m.id AND kind = 0 ORDER BY ts DESC LIMIT 1) r ON true"
            " WHERE m.premise_id = $1 ORDER BY m.id",
            premise_id,
        )
    return [
        PremiseMeter(
            r["id"],
            r["external_id"],
            r["service"],
            r["channel"],
            r["unit"],
            Reading(r["ts"], r["value"], r["flags"]) if r["ts"] else None,
        )
        for r in rows
    ]


async def owns_meter(conn: Connection, premise_id: str, meter_id: int) -> bool:
    async with store_errors("find meter"):
        found = await conn.fetchval(
            "SELECT 1 FROM meters WHERE id = $1 AND premise_id = $2", meter_id, premise_id
        )
    return found is not None


async def history(
    conn: Connection, meter_id: int, *, before: datetime | None, limit: int
) -> list[Reading]:
    """Accepted register readings of a meter, newest first, before ``before`` if given."""
    async with store_errors("reading history"):
        rows = await conn.fetch(
            "SELECT ts, value, flags FROM readings WHERE meter_id = $1 AND kind = 0"
            " AND ($2::timestamptz IS NULL OR ts < $2) ORDER BY ts DESC LIMIT $3",
            meter_id,
            before,
            limit,
        )
    return [Reading(r["ts"], r["value"], r["flags"]) for r in rows]
