"""Operators exclude a reading from billing, or include it again (migration 9).

The reading is kept: its ``flags`` gain or lose EXCLUDED (core.codes.Flag, 512) and a row in
``reading_exclusions`` says who did it, why and when. Both are idempotent: excluding an
excluded reading changes and records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from adapters.store.db import store_errors
from core.codes import Flag
from core.errors import ConfigError

MAX_REASON = 1000


@dataclass(frozen=True, slots=True)
class MeterRef:
    id: int
    source: str
    external_id: str
    channel: str

    @property
    def name(self) -> str:
        return f"{self.source}:{self.external_id}:{self.channel}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """The reading after an exclude or include; ``changed`` is False when it already was."""

    meter: MeterRef
    ts: datetime
    value: float
    flags: int
    changed: bool

    @property
    def excluded(self) -> bool:
        return bool(self.flags & Flag.EXCLUDED)


@dataclass(frozen=True, slots=True)
class Exclusion:
    id: int
    meter: str  # source:id:channel
    ts: datetime
    value: float
    action: str  # exclude | include
    reason: str
    actor: str
    at: datetime


class ExclusionError(ConfigError):
    """The meter or the reading named does not exist (``missing``), or the request is not
    usable (an ambiguous name, no reason, a time without a zone)."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


async def find_meter(conn: asyncpg.Connection, name: str) -> MeterRef:
    """The meter named ``SOURCE:ID`` or ``SOURCE:ID:CHANNEL`` (the channel may be left out
    when the meter has only one). ExclusionError when none or several match."""
    source, sep, rest = name.partition(":")
    if not sep or not source or not rest:
        raise ExclusionError(f"meter {name!r}: expected SOURCE:ID[:CHANNEL]")
    async with store_errors("find meter"):
        rows = await conn.fetch(
            "SELECT id, source, external_id, channel FROM meters WHERE source = $1"
            " AND (external_id = $2 OR external_id || ':' || channel = $2) ORDER BY id",
            source,
            rest,
        )
    exact = [r for r in rows if f"{r['external_id']}:{r['channel']}" == rest]
    rows = exact or rows
    if not rows:
        raise ExclusionError(f"no meter {name!r}", missing=True)
    if len(rows) > 1:
        channels = ", ".join(r["channel"] for r in rows)
        raise ExclusionError(f"meter {name!r} has channels {channels}: name one as {name}:CHANNEL")
    r = rows[0]
    return MeterRef(r["id"], r["source"], r["external_id"], r["channel"])


async def meter_by_id(conn: asyncpg.Connection, meter_id: int) -> MeterRef:
    async with store_errors("find meter"):
        r = await conn.fetchrow(
            "SELECT id, source, external_id, channel FROM meters WHERE id = $1", meter_id
        )
    if r is None:
        raise ExclusionError(f"no meter {meter_id}", missing=True)
    return MeterRef(r["id"], r["source"], r["external_id"], r["channel"])


def _check(reason: str, actor: str) -> tuple[str, str]:
    reason, actor = reason.strip(), actor.strip()
    if not reason:
        raise ExclusionError("a reason is required")
    if len(reason) > MAX_REASON:
        raise ExclusionError(f"the reason is longer than {MAX_REASON} characters")
    if not actor or len(actor) > 200:
        raise ExclusionError("who excludes must be named (1-200 characters)")
    return reason, actor


async def set_excluded(
    conn: asyncpg.Connection,
    meter: MeterRef,
    ts: datetime,
    *,
    excluded: bool,
    reason: str,
    actor: str,
) -> Outcome:
    """Excludes (``excluded=True``) or includes again the reading of ``meter`` at ``ts``,
    recording who and why; ExclusionError when there is no such reading."""
    if ts.tzinfo is None:
        raise ExclusionError("the reading's time needs a time zone (e.g. 2026-03-01T12:00+03:00)")
    reason, actor = _check(reason, actor)
    bit = int(Flag.EXCLUDED)
    async with store_errors("exclude reading"), conn.transaction():
        row = await conn.fetchrow(
            "SELECT value, flags FROM readings WHERE meter_id = $1 AND ts = $2 FOR UPDATE",
            meter.id,
            ts,
        )
        if row is None:
            raise ExclusionError(
                f"meter {meter.name} has no reading at {ts.isoformat()}", missing=True
            )
        flags = int(row["flags"])
        if bool(flags & bit) == excluded:
            return Outcome(meter, ts, float(row["value"]), flags, changed=False)
        flags = (flags | bit) if excluded else (flags & ~bit)
        await conn.execute(
            "UPDATE readings SET flags = $3 WHERE meter_id = $1 AND ts = $2", meter.id, ts, flags
        )
        await conn.execute(
            "INSERT INTO reading_exclusions (meter_id, ts, value, action, reason, actor)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            meter.id,
            ts,
            row["value"],
            "exclude" if excluded else "include",
            reason,
            actor,
        )
    return Outcome(meter, ts, float(row["value"]), flags, changed=True)


async def list_exclusions(
    conn: asyncpg.Connection, *, meter_id: int | None = None, limit: int = 100
) -> list[Exclusion]:
    """The record of exclusions and inclusions, newest first."""
    async with store_errors("list exclusions"):
        rows = await conn.fetch(
            "SELECT e.id, m.source || ':' || m.external_id || ':' || m.channel AS meter, e.ts,"
            " e.value, e.action, e.reason, e.actor, e.at FROM reading_exclusions e"
            " JOIN meters m ON m.id = e.meter_id WHERE ($1::integer IS NULL OR e.meter_id = $1)"
            " ORDER BY e.id DESC LIMIT $2",
            meter_id,
            limit,
        )
    return [Exclusion(**dict(r)) for r in rows]
