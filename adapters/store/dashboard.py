"""The queries of the operator dashboard: ingestion health per source and house balances.

Device health of Modbus pollers lives only in the gateway process (``Poller.health()``); here
a device is "offline" when the store has no reading of it for ``offline_hours``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from adapters.store.connections import Connection
from adapters.store.db import store_errors


@dataclass(frozen=True, slots=True)
class SourceHealth:
    source: str
    meters: int
    unbound: int
    offline: int
    last_hour: int
    last_day: int
    quarantined: dict[str, int]


async def source_health(conn: Connection, offline_hours: int) -> list[SourceHealth]:
    """Per source: meters, unbound, offline, readings (by measurement time) in the last hour
    and day, quarantine by reason. Per-meter index lookups, so no scan of all readings."""
    async with store_errors("dashboard health"):
        rows = await conn.fetch(
            "SELECT m.source, count(*) AS meters,"
            " count(*) FILTER (WHERE m.premise_id IS NULL AND m.house_id IS NULL) AS unbound,"
            " count(*) FILTER (WHERE r.ts IS NULL"
            "  OR r.ts < now() - make_interval(hours => $1)) AS offline,"
            " coalesce(sum(d.hour), 0) AS last_hour, coalesce(sum(d.day), 0) AS last_day"
            " FROM meters m"
            " LEFT JOIN LATERAL (SELECT ts FROM readings WHERE meter_id = m.id"
            "  ORDER BY ts DESC LIMIT 1) r ON true"
            " LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE ts > now() - interval '1 hour')"
            "  AS hour, count(*) AS day FROM readings WHERE meter_id = m.id"
            "  AND ts > now() - interval '1 day' AND ts <= now() + interval '5 minutes') d ON true"
            " GROUP BY m.source ORDER BY m.source",
            offline_hours,
        )
        quarantine = await conn.fetch(
            "SELECT source, reason, count(*) AS n FROM quarantine WHERE replayed_at IS NULL"
            " GROUP BY source, reason ORDER BY source, reason"
        )
    by_source: dict[str, dict[str, int]] = {}
    for q in quarantine:
        by_source.setdefault(q["source"], {})[q["reason"]] = q["n"]
    out = [
        SourceHealth(
            r["source"],
            r["meters"],
            r["unbound"],
            r["offline"],
            int(r["last_hour"]),
            int(r["last_day"]),
            by_source.pop(r["source"], {}),
        )
        for r in rows
    ]
    # Quarantine of sources with no meter in the registry at all (e.g. unknown meters only).
    out += [SourceHealth(s, 0, 0, 0, 0, 0, reasons) for s, reasons in sorted(by_source.items())]
    return out


@dataclass(frozen=True, slots=True)
class OfflineMeter:
    id: int
    source: str
    serial: str
    channel: str
    premise: str | None
    house: str | None
    last: object  # datetime | None


async def offline_meters(
    conn: Connection, offline_hours: int, limit: int = 50
) -> list[OfflineMeter]:
    async with store_errors("dashboard offline meters"):
        rows = await conn.fetch(
            "SELECT m.id, m.source, m.external_id, m.channel, m.premise_id, m.house_id, r.ts"
            " FROM meters m LEFT JOIN LATERAL (SELECT ts FROM readings WHERE meter_id = m.id"
            "  ORDER BY ts DESC LIMIT 1) r ON true"
            " WHERE r.ts IS NULL OR r.ts < now() - make_interval(hours => $1)"
            " ORDER BY r.ts NULLS FIRST, m.id LIMIT $2",
            offline_hours,
            limit,
        )
    return [
        OfflineMeter(
            r["id"],
            r["source"],
            r["external_id"],
            r["channel"],
            r["premise_id"],
            r["house_id"],
            r["ts"],
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class HouseImbalance:
    house: str
    address: str | None
    service: str
    first_day: date
    last_day: date
    house_volume: float | None  # None: the house meter has no data in the window
    premises_volume: float
    days: int
    premises_with_data: int | None = None  # premise meters with daily data (None: not recorded)
    premises_total: int | None = None  # premise meters of the house for the service

    @property
    def covered(self) -> bool:
        """Every premise meter of the house had daily data (or coverage was not recorded)."""
        return self.premises_with_data is None or self.premises_with_data == self.premises_total

    @property
    def ratio(self) -> float | None:
        """(house − premises) / house over the days the house meter is known; None when not
        every premise has daily data (a partial sum is not an imbalance)."""
        if not self.house_volume or not self.covered:
            return None
        return (self.house_volume - self.premises_volume) / self.house_volume


async def house_imbalances(
    conn: Connection, *, days: int = 30, limit: int = 50
) -> list[HouseImbalance]:
    """Houses by the size of their imbalance over the last ``days`` days of VEE balance data,
    the largest first (either sign: losses and premises over the house meter both matter)."""
    async with store_errors("dashboard house balance"):
        rows = await conn.fetch(
            "WITH recent AS (SELECT b.* FROM vee_house_balance b"
            "  WHERE b.day > (SELECT max(day) FROM vee_house_balance) - $1::int)"
            " SELECT r.house_id, h.address, r.service, min(r.day) AS first_day,"
            " max(r.day) AS last_day, count(*) AS days,"
            " sum(r.house_volume) AS house_volume,"
            " coalesce(sum(r.premises_volume) FILTER (WHERE r.house_volume IS NOT NULL), 0)"
            "  AS premises_volume,"
            " min(r.premises_with_data) AS with_data, max(r.premises_total) AS total"
            " FROM recent r LEFT JOIN houses h ON h.id = r.house_id"
            " GROUP BY r.house_id, h.address, r.service",
            days,
        )
    found = [
        HouseImbalance(
            r["house_id"],
            r["address"],
            r["service"],
            r["first_day"],
            r["last_day"],
            None if r["house_volume"] is None else float(r["house_volume"]),
            float(r["premises_volume"]),
            r["days"],
            r["with_data"],
            r["total"],
        )
        for r in rows
    ]
    found.sort(key=lambda h: (h.ratio is None, -abs(h.ratio or 0.0), h.house, h.service))
    return found[:limit]


@dataclass(frozen=True, slots=True)
class BalanceDay:
    day: date
    house_volume: float | None
    premises_volume: float
    ratio: float | None


async def house_balance_days(
    conn: Connection, house: str, service: str, *, days: int = 90
) -> list[BalanceDay]:
    async with store_errors("house balance days"):
        rows = await conn.fetch(
            "SELECT day, house_volume, premises_volume, ratio FROM vee_house_balance"
            " WHERE house_id = $1 AND service = $2 AND day > (SELECT max(day)"
            "  FROM vee_house_balance WHERE house_id = $1 AND service = $2) - $3::int"
            " ORDER BY day",
            house,
            service,
            days,
        )
    return [BalanceDay(r["day"], r["house_volume"], r["premises_volume"], r["ratio"]) for r in rows]


async def house_address(conn: Connection, house: str) -> str | None:
    """The address of a house; None when the house is not loaded (or has no address)."""
    async with store_errors("house address"):
        return await conn.fetchval(  # type: ignore[no-any-return]
            "SELECT address FROM houses WHERE id = $1", house
        )


@dataclass(frozen=True, slots=True)
class BilledBalance:
    """A house's balance of one billed month: the house meter against the volumes its
    premises were billed (by meter, average or normative), and where the difference went."""

    house: str
    address: str | None
    service: str
    period: date
    house_volume: float
    individual: float
    distributed: float  # charged to the premises as СОИ
    operator: float  # left to the operator (over the normative cap, or negative)

    @property
    def ratio(self) -> float:
        """(house − premises billed) / house."""
        return (self.house_volume - self.individual) / self.house_volume


async def billed_balances(conn: Connection, *, limit: int = 20) -> list[BilledBalance]:
    """The latest billed month's houses with a house meter reading, the largest difference
    between the house meter and the premises' billed volumes first (either sign). Unlike the
    daily balance it compares every premise, also those read monthly or billed by estimate."""
    async with store_errors("dashboard billed balance"):
        rows = await conn.fetch(
            "SELECT b.period, b.house_id, h.address, b.service, b.house_volume,"
            " b.individual_volume, b.distributed_volume, b.operator_volume"
            " FROM house_balances b LEFT JOIN houses h ON h.id = b.house_id"
            " WHERE b.period = (SELECT max(period) FROM house_balances) AND b.house_volume > 0"
            " ORDER BY abs(b.house_volume - b.individual_volume) / b.house_volume DESC,"
            " b.house_id, b.service LIMIT $1",
            limit,
        )
    return [
        BilledBalance(
            r["house_id"],
            r["address"],
            r["service"],
            r["period"],
            float(r["house_volume"]),
            float(r["individual_volume"]),
            float(r["distributed_volume"]),
            float(r["operator_volume"]),
        )
        for r in rows
    ]
