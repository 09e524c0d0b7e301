"""Small read queries shared by the intake paths."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from adapters.store.db import store_errors
from adapters.store.registry import METER_COLUMNS, Meter
from adapters.store.writer import QuarantineRow, ReadingStore, quarantine_identity


async def quarantined_already(
    store: ReadingStore, rows: Sequence[QuarantineRow]
) -> set[QuarantineRow]:
    """The rows whose input the quarantine already holds (not yet replayed)."""
    if not rows:
        return set()
    ids = {quarantine_identity(q.source, q.reason, q.payload): q for q in rows}
    async with store_errors("read quarantine"), store.pool.acquire() as conn:
        held = await conn.fetch(
            "SELECT identity FROM quarantine WHERE identity = ANY($1::bytea[])"
            " AND replayed_at IS NULL",
            list(ids),
        )
    found = {bytes(r["identity"]) for r in held}
    return {q for q in rows if quarantine_identity(q.source, q.reason, q.payload) in found}


@dataclass(frozen=True, slots=True)
class HeldReading:
    """A quarantine row to replay."""

    id: int
    source: str
    payload: bytes
    meter: str | None


async def quarantine_to_replay(
    store: ReadingStore, meter_ids: Sequence[int], quarantine_ids: Sequence[int]
) -> list[HeldReading]:
    """The not-yet-replayed quarantine rows of these meters and/or with these ids, oldest first."""
    async with store_errors("select quarantine"), store.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT q.id, q.source, q.payload, q.meter FROM quarantine q"
            " LEFT JOIN meters m ON m.source = q.source AND m.external_id = q.meter"
            "  AND m.channel = q.channel"
            " WHERE q.replayed_at IS NULL"
            "  AND (m.id = ANY($1::integer[]) OR q.id = ANY($2::bigint[]))"
            " ORDER BY q.id",
            list(meter_ids),
            list(quarantine_ids),
        )
    return [HeldReading(r["id"], r["source"], bytes(r["payload"]), r["meter"]) for r in rows]


async def mark_replayed(store: ReadingStore, ids: Sequence[int]) -> None:
    async with store_errors("mark replayed"), store.pool.acquire() as conn:
        await conn.execute(
            "UPDATE quarantine SET replayed_at = now() WHERE id = ANY($1::bigint[])", list(ids)
        )


async def meters_by_id(store: ReadingStore, ids: Sequence[int]) -> dict[int, Meter]:
    """The registry rows of these meter ids (bindings as stored now, not as cached)."""
    async with store_errors("meters"), store.pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {METER_COLUMNS} FROM meters WHERE id = ANY($1::integer[])", list(ids)
        )
    return {r["id"]: Meter(*r) for r in rows}


async def stored_values(
    store: ReadingStore, keys: Sequence[tuple[int, datetime]]
) -> dict[tuple[int, datetime], float]:
    """The stored values at these (meter id, ts) keys, where there are any."""
    if not keys:
        return {}
    async with store_errors("stored values"), store.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT r.meter_id, r.ts, r.value FROM readings r"
            " JOIN unnest($1::integer[], $2::timestamptz[]) AS k(meter_id, ts)"
            " USING (meter_id, ts)",
            [k[0] for k in keys],
            [k[1] for k in keys],
        )
    return {(r["meter_id"], r["ts"]): r["value"] for r in rows}


@dataclass(frozen=True, slots=True)
class LastReading:
    ts: datetime
    value: float
    flags: int
    received_at: datetime


async def last_reading(store: ReadingStore, meter_id: int) -> LastReading | None:
    """The newest register reading of a meter."""
    async with store_errors("last reading"), store.pool.acquire() as conn:
        r = await conn.fetchrow(
            "SELECT ts, value, flags, received_at FROM readings WHERE meter_id = $1 AND kind = 0"
            " ORDER BY ts DESC LIMIT 1",
            meter_id,
        )
    return None if r is None else LastReading(r["ts"], r["value"], r["flags"], r["received_at"])
