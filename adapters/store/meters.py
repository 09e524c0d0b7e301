"""The meter registry as operators use it, one implementation for the CLI, the API and the
pages: list (filtered, paged), find, bind to a premise or a house, count the unbound.

A meter is *bound* when it belongs to a premise or to a house (an ОДПУ); unbound otherwise.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from adapters.store.connections import Connection
from adapters.store.db import store_errors
from core.channels import canonical_unit, normalize_channel, service_of
from core.errors import UchetError

UNBOUND = "m.premise_id IS NULL AND m.house_id IS NULL"


class MeterKeyError(UchetError):
    """A meter reference that cannot be parsed or found."""


class UnknownMeter(MeterKeyError):
    """No registry row (nor quarantined reading) answers to the meter named."""


class UnknownPremise(MeterKeyError):
    """The premise to bind to is not loaded."""


class UnknownHouse(MeterKeyError):
    """The house to bind to is not loaded."""


@dataclass(frozen=True, slots=True)
class MeterRow:
    id: int
    source: str
    external_id: str
    channel: str
    service: str
    premise_id: str | None
    house_id: str | None
    quarantined: int  # its readings waiting in quarantine
    readings: int | None = None  # counted only when asked (a count per meter)

    @property
    def key(self) -> str:
        return f"{self.source}:{self.external_id}:{self.channel}"


def parse_key(text: str) -> tuple[str, str, str | None]:
    """``source:external_id[:channel]`` (the channel may itself contain ':', e.g. 1-0:1.8.0)."""
    source, sep, rest = text.partition(":")
    if not sep or not rest:
        raise MeterKeyError(f"meter {text!r}: expected source:external_id[:channel]")
    external_id, sep, channel = rest.partition(":")
    return source, external_id, (normalize_channel(channel) if sep else None)


def _select(count_readings: bool) -> str:
    readings = (
        "(SELECT count(*) FROM readings r WHERE r.meter_id = m.id)" if count_readings else "NULL"
    )
    return (
        "SELECT m.id, m.source, m.external_id, m.channel, m.service, m.premise_id, m.house_id,"
        " (SELECT count(*) FROM quarantine q WHERE q.replayed_at IS NULL AND q.source = m.source"
        "  AND q.meter = m.external_id AND q.channel = m.channel) AS quarantined,"
        f" {readings} AS readings FROM meters m"
    )


@dataclass(frozen=True, slots=True)
class MeterQuery:
    """Which meters an operator looks at. ``text`` matches a registry id exactly, or the start
    of a serial (``source:serial[:channel]`` too), of a premise id or of a house id, or a house
    exactly (the meters of its premises); ``unbound`` True/False/None: unbound, bound, all;
    ``service``: one service; ``quarantined``: only meters with readings waiting in quarantine.
    """

    text: str = ""
    unbound: bool | None = None
    premise: str | None = None
    service: str | None = None
    quarantined: bool = False


@dataclass(frozen=True, slots=True)
class MeterCounts:
    """The registry's totals, counted as ``uchet stats`` counts them."""

    meters: int
    unbound: int

    @property
    def bound(self) -> int:
        return self.meters - self.unbound


_HELD = (
    "EXISTS (SELECT 1 FROM quarantine q WHERE q.replayed_at IS NULL AND q.meter = m.external_id"
    " AND q.channel = m.channel AND q.source = m.source)"
)


def _prefix(text: str) -> str:
    """A LIKE pattern for ``text`` as a prefix (its own ``%``, ``_`` and ``\\`` literal)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _starts(column: str, prefix: str, arg: Callable[[object], str]) -> str:
    """``column`` starts with ``prefix``, as a range of the ``text_pattern_ops`` index
    (bytewise order; UTF-8 keeps code point order). Not ``LIKE $1``: a prepared statement's
    generic plan cannot turn a parameter pattern into an index range, and scans the table."""
    low = arg(prefix)
    if prefix[-1] == "\U0010ffff":
        return f"{column} ~>=~ {low}"
    following = ord(prefix[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are no characters (UTF-8 cannot hold one)
        following = 0xE000
    high = arg(prefix[:-1] + chr(following))
    return f"({column} ~>=~ {low} AND {column} ~<~ {high})"


def _channel(text: str) -> str:
    """A channel as the registry spells it (``1.8.0`` is ``1-0:1.8.0``), else as typed."""
    try:
        return normalize_channel(text)
    except UchetError:
        return text


def _where(query: MeterQuery, args: list[object]) -> str:
    def arg(value: object) -> str:
        args.append(value)
        return f"${len(args)}"

    parts = []
    if query.unbound is not None:
        parts.append(UNBOUND if query.unbound else f"NOT ({UNBOUND})")
    if query.premise is not None:
        parts.append(f"m.premise_id = {arg(query.premise)}")
    if query.service:
        parts.append(f"m.service = {arg(query.service)}")
    if query.quarantined:
        parts.append(_HELD)
    text = query.text.strip()
    if text:
        # each arm a range of its own index (migration 21): no scan of the registry
        found = [
            _starts("m.external_id", text, arg),
            _starts("m.premise_id", text, arg),
            _starts("m.house_id", text, arg),
            # ANY(ARRAY(...)), not IN (...): an index condition, so every arm is a bitmap scan
            f"m.premise_id = ANY(ARRAY(SELECT id FROM premises WHERE house_id = {arg(text)}))",
        ]
        if text.isascii() and text.isdigit() and int(text) <= 2**31 - 1:
            found.append(f"m.id = {arg(int(text))}")
        source, sep, rest = text.partition(":")
        if sep and rest:
            serial, sep, channel = rest.partition(":")
            if sep:
                found.append(
                    f"(m.source = {arg(source)} AND m.external_id = {arg(serial)}"
                    f" AND (m.channel LIKE {arg(_prefix(channel))}"
                    f" OR m.channel = {arg(_channel(channel))}))"
                )
            else:
                serial_starts = _starts("m.external_id", serial, arg)
                found.append(f"(m.source = {arg(source)} AND {serial_starts})")
        parts.append("(" + " OR ".join(found) + ")")
    return (" WHERE " + " AND ".join(parts)) if parts else ""


async def search_meters(
    conn: Connection,
    query: MeterQuery,
    *,
    limit: int = 1000,
    offset: int = 0,
    count_readings: bool = False,
) -> list[MeterRow]:
    """One page (by id) of the meters ``query`` matches."""
    args: list[object] = []
    where = _where(query, args)
    n = len(args)
    async with store_errors("list meters"):
        rows = await conn.fetch(
            _select(count_readings) + where + f" ORDER BY m.id LIMIT ${n + 1} OFFSET ${n + 2}",
            *args,
            limit,
            offset,
        )
    return [MeterRow(**dict(r)) for r in rows]


async def count_meters(conn: Connection, query: MeterQuery) -> int:
    """How many meters ``query`` matches (every page of it)."""
    args: list[object] = []
    where = _where(query, args)
    async with store_errors("count meters"):
        return int(await conn.fetchval("SELECT count(*) FROM meters m" + where, *args))


async def meter_counts(conn: Connection) -> MeterCounts:
    """All meters and the unbound ones (the same condition as ``uchet stats``)."""
    async with store_errors("count meters"):
        row = await conn.fetchrow(
            f"SELECT count(*) AS meters, count(*) FILTER (WHERE {UNBOUND}) AS unbound FROM meters m"
        )
    assert row is not None
    return MeterCounts(row["meters"], row["unbound"])


async def list_meters(
    conn: Connection,
    *,
    unbound: bool | None = None,
    premise: str | None = None,
    limit: int = 1000,
    offset: int = 0,
    count_readings: bool = False,
) -> list[MeterRow]:
    """Meters by id. ``unbound``: True only unbound ones, False only bound ones, None all;
    ``premise``: only the meters of that premise; ``limit``/``offset``: one page."""
    return await search_meters(
        conn, MeterQuery(unbound=unbound, premise=premise), limit=limit, offset=offset,
        count_readings=count_readings,
    )  # fmt: skip


async def meter_by_id(conn: Connection, meter_id: int) -> MeterRow | None:
    async with store_errors("find meter"):
        row = await conn.fetchrow(_select(False) + " WHERE m.id = $1", meter_id)
    return None if row is None else MeterRow(**dict(row))


async def meter_ids(conn: Connection, key: str) -> list[int]:
    """The registry ids of ``source:external_id[:channel]`` (every channel when none named)."""
    source, external_id, channel = parse_key(key)
    async with store_errors("find meter"):
        rows = await conn.fetch(
            "SELECT id FROM meters WHERE source = $1 AND external_id = $2"
            " AND ($3::text IS NULL OR channel = $3) ORDER BY id",
            source,
            external_id,
            channel,
        )
    return [r["id"] for r in rows]


async def close_names(conn: Connection, key: str, n: int = 5) -> list[str]:
    """Up to ``n`` known meter keys (registry or quarantine) that look like ``key``."""
    source, external_id, channel = parse_key(key)
    async with store_errors("similar meters"):
        rows = await conn.fetch(
            "SELECT source, external_id, channel FROM meters"
            " UNION SELECT source, meter, channel FROM quarantine"
            "  WHERE replayed_at IS NULL AND meter IS NOT NULL AND channel IS NOT NULL"
        )
    known = {f"{r['source']}:{r['external_id']}:{r['channel']}" for r in rows}
    if channel is not None:
        return difflib.get_close_matches(f"{source}:{external_id}:{channel}", known, n, 0.6)
    by_meter: dict[str, list[str]] = {}
    for k in sorted(known):
        s, _, rest = k.partition(":")
        by_meter.setdefault(f"{s}:{rest.partition(':')[0]}", []).append(k)
    close = difflib.get_close_matches(f"{source}:{external_id}", by_meter, n, 0.6)
    return [k for meter in close for k in by_meter[meter]][:n]


async def _check_target(conn: Connection, premise_id: str | None, house_id: str | None) -> None:
    if (premise_id is None) == (house_id is None):
        raise MeterKeyError("bind to exactly one of a premise or a house")
    if premise_id is not None and not await conn.fetchval(
        "SELECT 1 FROM premises WHERE id = $1", premise_id
    ):
        raise UnknownPremise(f"premise {premise_id!r} is not loaded (uchet load FILE)")
    if house_id is not None and not await conn.fetchval(
        "SELECT 1 FROM houses WHERE id = $1", house_id
    ):
        raise UnknownHouse(f"house {house_id!r} is not loaded (uchet load FILE)")


_BIND = (
    "UPDATE meters SET premise_id = $1, house_id = $2,"
    " capacity_digits = coalesce($3, capacity_digits), installed = coalesce($4, installed)"
)


async def bind_meter_id(
    conn: Connection,
    meter_id: int,
    *,
    premise_id: str | None = None,
    house_id: str | None = None,
) -> None:
    """Binds registry row ``meter_id`` to a premise or a house, in one transaction."""
    async with store_errors("bind meter"), conn.transaction():
        await _check_target(conn, premise_id, house_id)
        found = await conn.fetch(
            _BIND + " WHERE id = $5 RETURNING id", premise_id, house_id, None, None, meter_id
        )
    if not found:
        raise UnknownMeter(f"no meter {meter_id}")


async def bind_meter(
    conn: Connection,
    key: str,
    *,
    premise_id: str | None = None,
    house_id: str | None = None,
    capacity_digits: int | None = None,
    installed: date | None = None,
    create: bool = False,
) -> list[int]:
    """Binds the meter's registers (all channels, or the one named) to a premise or house.

    A meter named with its channel that the registry has not seen yet is created when its
    readings wait in quarantine (bound, they can be replayed) or when ``create`` is asked (to
    bind a meter before its first reading); otherwise UnknownMeter names the close keys known,
    so that a typo does not make a phantom meter. Returns the ids of the bound registry rows.
    """
    source, external_id, channel = parse_key(key)
    async with store_errors("bind meter"), conn.transaction():
        await _check_target(conn, premise_id, house_id)
        if channel is not None:
            await conn.execute(
                "INSERT INTO meters (source, external_id, channel, service, unit)"
                " SELECT $1, $2, $3, $4, $5 WHERE $6 OR EXISTS (SELECT 1 FROM quarantine"
                "  WHERE replayed_at IS NULL AND source = $1 AND meter = $2 AND channel = $3)"
                " ON CONFLICT DO NOTHING",
                source,
                external_id,
                channel,
                service_of(channel),
                canonical_unit(channel),
                create,
            )
        ids = await conn.fetch(
            _BIND + " WHERE source = $5 AND external_id = $6 AND ($7::text IS NULL OR channel = $7)"
            " RETURNING id",
            premise_id,
            house_id,
            capacity_digits,
            installed,
            source,
            external_id,
            channel,
        )
    if not ids:
        close = await close_names(conn, key)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        if channel is None:
            raise UnknownMeter(f"no such meter {key!r} in the registry (name its channel){hint}")
        raise UnknownMeter(
            f"no such meter {key!r} in the registry nor the quarantine{hint}"
            " (--create registers it anyway)"
        )
    return sorted(r["id"] for r in ids)


@dataclass(frozen=True, slots=True)
class Register:
    """One registry row, as a bulk binding checks it."""

    id: int
    source: str
    external_id: str
    channel: str
    service: str


_REGISTER = "SELECT id, source, external_id, channel, service FROM meters"


async def registers_by_id(conn: Connection, ids: list[int]) -> dict[int, Register]:
    async with store_errors("find meters"):
        rows = await conn.fetch(_REGISTER + " WHERE id = ANY($1::int[])", ids)
    return {r["id"]: Register(*r) for r in rows}


async def registers_by_serial(
    conn: Connection, serials: list[tuple[str, str]]
) -> dict[tuple[str, str], list[Register]]:
    """The registers (every channel) of each ``(source, external_id)``, by id."""
    found: dict[tuple[str, str], list[Register]] = {}
    if not serials:
        return found
    sources, externals = (list(c) for c in zip(*serials, strict=True))
    async with store_errors("find meters"):
        rows = await conn.fetch(
            _REGISTER + " WHERE (source, external_id) IN"
            " (SELECT * FROM unnest($1::text[], $2::text[])) ORDER BY id",
            sources,
            externals,
        )
    for r in rows:
        found.setdefault((r["source"], r["external_id"]), []).append(Register(*r))
    return found


async def known_owners(
    conn: Connection, premises: list[str], houses: list[str]
) -> tuple[set[str], set[str]]:
    """Which of these premises and houses are loaded."""
    async with store_errors("find premises"):
        p = await conn.fetch("SELECT id FROM premises WHERE id = ANY($1::text[])", premises)
        h = await conn.fetch("SELECT id FROM houses WHERE id = ANY($1::text[])", houses)
    return {r["id"] for r in p}, {r["id"] for r in h}


async def bind_many(conn: Connection, bindings: list[tuple[int, str | None, str | None]]) -> int:
    """Binds each ``(meter id, premise, house)`` in one transaction; the rows updated."""
    if not bindings:
        return 0
    ids, premises, houses = (list(c) for c in zip(*bindings, strict=True))
    async with store_errors("bind meters"), conn.transaction():
        status = await conn.execute(
            "UPDATE meters m SET premise_id = b.premise, house_id = b.house"
            " FROM unnest($1::int[], $2::text[], $3::text[]) AS b(id, premise, house)"
            " WHERE m.id = b.id",
            ids,
            premises,
            houses,
        )
    return int(status.rsplit(" ", 1)[1])
