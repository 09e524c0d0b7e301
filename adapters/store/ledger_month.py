"""All SQL of the saved months (issue #19): a month's settled statements written by binary COPY
into a fresh partition that replaces the month's old one whole, and the debtors and collection
views read from it (filters, order, paging and totals in PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg

from adapters.store.db import store_errors

COLUMNS = (
    "month",
    "account",
    "house_id",
    "opening_balance",
    "charged",
    "paid",
    "penalty_month",
    "penalty_total",
    "penalty_paid",
    "closing_balance",
    "debt_0_30",
    "debt_31_90",
    "debt_91_180",
    "debt_181",
    "debt",
    "penalty_due",
    "owed",
    "oldest_due",
    "oldest_delay_days",
)
BUCKET_COLUMNS = {
    "0-30": "debt_0_30",
    "31-90": "debt_31_90",
    "91-180": "debt_91_180",
    "181+": "debt_181",
}
_LOCK = 0x6C6D6F6E  # "lmon" + the month: one save of a month at a time


def _partition(month: date) -> str:
    return f"ledger_month_accounts_p{month:%Y%m}"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a month is computed from: the snapshot's time, the payments dated by the as-of
    day, the newest billing run."""

    data_as_of: datetime
    payments: int
    last_run: int | None


async def begin_month(conn: asyncpg.Connection, month: date, as_of: date) -> Snapshot:
    """Inside the save's (repeatable-read) transaction: one save of ``month`` at a time, an
    empty staging table for its rows, and what the data is as of."""
    async with store_errors("start saving the month"):
        await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", _LOCK, month.toordinal())
        staging = _partition(month) + "_new"
        await conn.execute(f"DROP TABLE IF EXISTS {staging}")
        await conn.execute(f"CREATE TABLE {staging} (LIKE ledger_month_accounts)")
        r = await conn.fetchrow(
            "SELECT now() AS at, (SELECT count(*) FROM payments WHERE day <= $1) AS payments,"
            " (SELECT max(id) FROM billing_runs) AS last_run",
            as_of,
        )
    return Snapshot(r["at"], r["payments"], r["last_run"])


async def copy_month_rows(
    conn: asyncpg.Connection, month: date, rows: Sequence[tuple[Any, ...]]
) -> None:
    """Rows of COLUMNS into the month's staging table (binary COPY)."""
    async with store_errors("write the month's statements"):
        await conn.copy_records_to_table(_partition(month) + "_new", records=rows, columns=COLUMNS)


async def finish_month(
    conn: asyncpg.Connection,
    month: date,
    as_of: date,
    snap: Snapshot,
    collection: Sequence[tuple[str | None, date, int, int]],
    *,
    seconds: float,
) -> tuple[int, int]:
    """Swaps the staging table in for the month (its indexes built now), replaces its
    collection sums (house, period, charged, paid) and its header; (accounts, debtors)."""
    table = _partition(month)
    async with store_errors("replace the saved month"):
        await conn.execute(f"DROP TABLE IF EXISTS {table}")
        await conn.execute(f"ALTER TABLE {table}_new RENAME TO {table}")
        await conn.execute(
            f"ALTER TABLE ledger_month_accounts ATTACH PARTITION {table}"
            f" FOR VALUES IN ('{month.isoformat()}')"
        )
        counts = await conn.fetchrow(
            f"SELECT count(*) AS accounts, count(*) FILTER (WHERE owed > 0) AS debtors FROM {table}"
        )
        await conn.execute("DELETE FROM ledger_month_collection WHERE month = $1", month)
        await conn.executemany(
            "INSERT INTO ledger_month_collection (month, house_id, period, charged, paid)"
            " VALUES ($1, $2, $3, $4, $5)",
            [(month, *c) for c in collection],
        )
        await conn.execute(
            "INSERT INTO ledger_months (month, as_of, data_as_of, payments, last_run, accounts,"
            " debtors, seconds) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (month) DO UPDATE SET as_of = excluded.as_of,"
            " computed_at = now(), data_as_of = excluded.data_as_of,"
            " payments = excluded.payments, last_run = excluded.last_run,"
            " accounts = excluded.accounts, debtors = excluded.debtors,"
            " seconds = excluded.seconds",
            month,
            as_of,
            snap.data_as_of,
            snap.payments,
            snap.last_run,
            counts["accounts"],
            counts["debtors"],
            seconds,
        )
    return int(counts["accounts"]), int(counts["debtors"])


async def saved_month(conn: asyncpg.Connection, month: date) -> asyncpg.Record | None:
    """The header of a saved month with what arrived since: ``new_payments`` (recorded after
    its snapshot, dated by its as-of day), ``new_run`` (a newer billing run), ``new_rates``,
    ``new_opening`` (an opening debt set or changed)."""
    async with store_errors("read the saved month"):
        return await conn.fetchrow(
            "SELECT m.*,"
            " (SELECT count(*) FROM payments p"
            "   WHERE p.imported_at > m.data_as_of AND p.day <= m.as_of) AS new_payments,"
            " coalesce((SELECT max(id) FROM billing_runs), 0) > coalesce(m.last_run, 0)"
            "   AS new_run,"
            " EXISTS (SELECT 1 FROM key_rates k WHERE k.added_at > m.data_as_of) AS new_rates,"
            " EXISTS (SELECT 1 FROM opening_debts o WHERE o.updated_at > m.data_as_of)"
            "   AS new_opening"
            " FROM ledger_months m WHERE m.month = $1",
            month,
        )


def _where(house: str | None, bucket: str | None) -> str:
    out = "a.month = $1 AND a.owed > 0 AND a.owed >= $2 AND ($3::text IS NULL OR a.house_id = $3)"
    if bucket is not None:
        out += f" AND a.{BUCKET_COLUMNS[bucket]} > 0"
    return out


async def saved_totals(
    conn: asyncpg.Connection, month: date, *, house: str | None, least: int, bucket: str | None
) -> asyncpg.Record:
    """The totals of the saved month's debtors that match: accounts, debt, penalty_due and
    each bucket's column (kopecks)."""
    sums = ", ".join(f"coalesce(sum({c}), 0)::bigint AS {c}" for c in BUCKET_COLUMNS.values())
    async with store_errors("read the saved debtors"):
        r = await conn.fetchrow(
            "SELECT count(*) AS accounts, coalesce(sum(debt), 0)::bigint AS debt,"
            f" coalesce(sum(penalty_due), 0)::bigint AS penalty_due, {sums}"
            f" FROM ledger_month_accounts a WHERE {_where(house, bucket)}",
            month,
            least,
            house,
        )
    assert r is not None
    return r


async def saved_debtors(
    conn: asyncpg.Connection,
    month: date,
    *,
    house: str | None,
    least: int,
    bucket: str | None,
    offset: int = 0,
    limit: int | None = None,
) -> list[asyncpg.Record]:
    """A page of the saved month's debtors that match (largest debt with penalty first, then
    account) with their house's address."""
    async with store_errors("read the saved debtors"):
        return list(
            await conn.fetch(
                "SELECT a.*, h.address FROM ledger_month_accounts a"
                f" LEFT JOIN houses h ON h.id = a.house_id WHERE {_where(house, bucket)}"
                " ORDER BY a.owed DESC, a.account OFFSET $4 LIMIT $5",
                month,
                least,
                house,
                offset,
                limit,
            )
        )


async def saved_collection(
    conn: asyncpg.Connection, month: date, periods: Sequence[date], house: str | None
) -> list[asyncpg.Record]:
    """The saved month's collection sums (house_id, address, period, charged, paid) of
    ``periods``; with none, each house once with period NULL (the houses are still listed)."""
    where = "c.month = $1 AND ($2::text IS NULL OR c.house_id = $2)"
    async with store_errors("read the saved collection rate"):
        if not periods:
            return list(
                await conn.fetch(
                    "SELECT DISTINCT c.house_id, h.address, NULL::date AS period"
                    " FROM ledger_month_collection c LEFT JOIN houses h ON h.id = c.house_id"
                    f" WHERE {where}",
                    month,
                    house,
                )
            )
        return list(
            await conn.fetch(
                "SELECT c.house_id, h.address, c.period, c.charged, c.paid"
                " FROM ledger_month_collection c LEFT JOIN houses h ON h.id = c.house_id"
                f" WHERE {where} AND c.period = ANY($3::date[])",
                month,
                house,
                list(periods),
            )
        )


async def house_address(conn: asyncpg.Connection, house: str) -> tuple[bool, str | None]:
    """Whether the house has premises, and its address."""
    async with store_errors("read house"):
        r = await conn.fetchrow(
            "SELECT h.address, EXISTS (SELECT 1 FROM premises p WHERE p.house_id = h.id) AS used"
            " FROM houses h WHERE h.id = $1",
            house,
        )
    return (False, None) if r is None else (bool(r["used"]), r["address"])


def month_transaction(conn: asyncpg.Connection) -> Any:
    """The save's transaction: repeatable read, so every cursor sees one snapshot."""
    return conn.transaction(isolation="repeatable_read")


async def account_houses(conn: asyncpg.Connection) -> dict[str, str]:
    """The house of every account key (an account of no premise has none)."""
    async with store_errors("read account houses"):
        rows = await conn.fetch("SELECT coalesce(account, id) AS key, house_id FROM premises")
    return {r["key"]: r["house_id"] for r in rows}
