"""Reads of the events residents and operators are told about (issue 21): meters without a
reading, readings residents entered, the month's accruals (a new ЕПД), devices offline.
House balances are adapters.store.dashboard.house_imbalances."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from adapters.store.connections import Connection


async def meters_without_reading(
    conn: Connection, start: datetime, end: datetime
) -> list[tuple[str, str, str]]:
    """(account, service, meter external id) of meters bound to a premise with an account
    and without any reading in [start, end)."""
    rows = await conn.fetch(
        """SELECT p.account, m.service, m.external_id FROM meters m
           JOIN premises p ON p.id = m.premise_id
           WHERE p.account IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM readings r WHERE r.meter_id = m.id
                             AND r.ts >= $1 AND r.ts < $2)
           ORDER BY p.account, m.service, m.external_id""",
        start,
        end,
    )
    return [(r["account"], r["service"], r["external_id"]) for r in rows]


@dataclass(frozen=True, slots=True)
class Received:
    account: str
    meter_id: int
    meter: str  # external id
    service: str
    unit: str
    ts: datetime
    value: float


_RECEIVED = """SELECT p.account, m.id AS meter_id, m.external_id AS meter, m.service, m.unit,
                      r.ts, r.value
               FROM readings r JOIN meters m ON m.id = r.meter_id
               JOIN premises p ON p.id = m.premise_id"""


async def readings_at(conn: Connection, keys: Sequence[tuple[int, datetime]]) -> list[Received]:
    """The stored readings at these (meter id, ts), with the account of their premise, of
    accounts that have a confirmed contact (nobody else is told)."""
    rows = await conn.fetch(
        _RECEIVED
        + """ JOIN unnest($1::integer[], $2::timestamptz[]) AS k(meter_id, ts)
                        ON k.meter_id = r.meter_id AND k.ts = r.ts
                        WHERE p.account IN (SELECT account FROM notify_contacts
                                            WHERE confirmed)""",
        [k[0] for k in keys],
        [k[1] for k in keys],
    )
    return [Received(**dict(r)) for r in rows]


async def manual_readings_since(
    conn: Connection, since: datetime, oldest: datetime, manual_flag: int
) -> list[Received]:
    """Readings entered by a person (``manual_flag``) received since ``since`` and dated from
    ``oldest`` on, of accounts that have a confirmed contact (nobody else is told)."""
    rows = await conn.fetch(
        _RECEIVED + """ WHERE r.received_at >= $1 AND r.ts >= $2 AND r.flags & $3 <> 0
                        AND p.account IN (SELECT account FROM notify_contacts WHERE confirmed)
                        ORDER BY r.received_at, r.meter_id""",
        since, oldest, manual_flag,
    )  # fmt: skip
    return [Received(**dict(r)) for r in rows]


async def accrued_accounts(conn: Connection, month: date) -> list[tuple[str, Decimal]]:
    """(account, the month's total accrued) of every account with accruals in ``month``."""
    rows = await conn.fetch(
        """SELECT p.account, sum(a.amount) AS total FROM accruals a
           JOIN premises p ON p.id = a.premise_id
           WHERE a.period = $1 AND p.account IS NOT NULL
           GROUP BY p.account ORDER BY p.account""",
        month,
    )
    return [(r["account"], Decimal(r["total"])) for r in rows]


@dataclass(frozen=True, slots=True)
class OfflineDevice:
    source: str
    device: str
    bus: str
    since: datetime
    last_error: str | None


async def offline_devices(conn: Connection, before: datetime) -> list[OfflineDevice]:
    """Devices offline since before ``before`` (the gateways' device_health)."""
    rows = await conn.fetch(
        """SELECT source, device, bus, since, last_error FROM device_health
           WHERE state = 'offline' AND since < $1 ORDER BY source, device""",
        before,
    )
    return [OfflineDevice(**dict(r)) for r in rows]
