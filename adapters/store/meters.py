"""Operator actions on the meter registry: list, bind to a premise or a house."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

from adapters.store.db import store_errors
from core.channels import canonical_unit, normalize_channel, service_of
from core.errors import UchetError


class MeterKeyError(UchetError):
    """A meter reference that cannot be parsed or found."""


@dataclass(frozen=True, slots=True)
class MeterRow:
    id: int
    source: str
    external_id: str
    channel: str
    service: str
    premise_id: str | None
    house_id: str | None
    readings: int


def parse_key(text: str) -> tuple[str, str, str | None]:
    """``source:external_id[:channel]`` (the channel may itself contain ':', e.g. 1-0:1.8.0)."""
    source, sep, rest = text.partition(":")
    if not sep or not rest:
        raise MeterKeyError(f"meter {text!r}: expected source:external_id[:channel]")
    external_id, sep, channel = rest.partition(":")
    return source, external_id, (normalize_channel(channel) if sep else None)


async def list_meters(
    conn: asyncpg.Connection, *, unbound: bool = False, limit: int = 1000
) -> list[MeterRow]:
    async with store_errors("list meters"):
        rows = await conn.fetch(
            "SELECT m.id, m.source, m.external_id, m.channel, m.service, m.premise_id,"
            " m.house_id, (SELECT count(*) FROM readings r WHERE r.meter_id = m.id) AS readings"
            " FROM meters m WHERE NOT $1 OR (m.premise_id IS NULL AND m.house_id IS NULL)"
            " ORDER BY m.id LIMIT $2",
            unbound,
            limit,
        )
    return [MeterRow(**dict(r)) for r in rows]


async def bind_meter(
    conn: asyncpg.Connection,
    key: str,
    *,
    premise_id: str | None = None,
    house_id: str | None = None,
    capacity_digits: int | None = None,
    installed: date | None = None,
) -> list[int]:
    """Binds the meter's registers (all channels, or the one named) to a premise or house.

    A meter named with its channel that the registry has not seen yet is created, so that an
    operator can bind a meter before (or after quarantining) its first readings.
    Returns the ids of the bound registry rows.
    """
    if (premise_id is None) == (house_id is None):
        raise MeterKeyError("bind to exactly one of a premise or a house")
    source, external_id, channel = parse_key(key)
    async with store_errors("bind meter"), conn.transaction():
        if premise_id is not None and not await conn.fetchval(
            "SELECT 1 FROM premises WHERE id = $1", premise_id
        ):
            raise MeterKeyError(f"premise {premise_id!r} is not loaded (uchet load FILE)")
        if house_id is not None and not await conn.fetchval(
            "SELECT 1 FROM houses WHERE id = $1", house_id
        ):
            raise MeterKeyError(f"house {house_id!r} is not loaded (uchet load FILE)")
        if channel is not None:
            await conn.execute(
                "INSERT INTO meters (source, external_id, channel, service, unit)"
                " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                source,
                external_id,
                channel,
                service_of(channel),
                canonical_unit(channel),
            )
        ids = await conn.fetch(
            "UPDATE meters SET premise_id = $4, house_id = $5,"
            " capacity_digits = coalesce($6, capacity_digits),"
            " installed = coalesce($7, installed)"
            " WHERE source = $1 AND external_id = $2 AND ($3::text IS NULL OR channel = $3)"
            " RETURNING id",
            source,
            external_id,
            channel,
            premise_id,
            house_id,
            capacity_digits,
            installed,
        )
    if not ids:
        raise MeterKeyError(f"meter {key!r}: no such meter in the registry (name its channel)")
    return [r["id"] for r in ids]
