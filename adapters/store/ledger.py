"""All SQL of the ledger: payments (idempotent on their id), unassigned payments, rejected
register rows, opening debts, key rates, and the month's ledger input read from the store."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeAlias

import asyncpg

from adapters.payments.register import PaymentRow, RowError
from adapters.store.db import store_errors
from core.ledger import LedgerError
from core.ledger.dates import month_index
from core.ledger.model import Account, Payment

# a payment's account is known when a premise has it as its account (or, having none, as id)
_KNOWN = """
SELECT a, coalesce(p.account, p.id) AS key
FROM unnest($1::text[]) AS a
JOIN premises p ON p.account = a OR (p.account IS NULL AND p.id = a)
"""


async def known_accounts(conn: asyncpg.Connection, accounts: Iterable[str]) -> dict[str, str]:
    """Of ``accounts``, those a premise has (as its account, or as its id when it has none),
    each with the ledger's key for it."""
    return dict(await conn.fetch(_KNOWN, sorted(set(accounts))))


_INSERT = """
INSERT INTO {table} (id, account, day, amount, period, target, source, line)
SELECT i, a, d, k * 0.01, p, g, s, l
FROM unnest($1::text[], $2::text[], $3::date[], $4::bigint[], $5::date[], $6::text[], $7::text[],
            $8::integer[]) AS t(i, a, d, k, p, g, s, l)
ON CONFLICT (id) DO NOTHING RETURNING id
"""


Connection: TypeAlias = asyncpg.Connection


async def connect(url: str) -> Connection:
    """One connection for a ledger command (store errors mapped)."""
    async with store_errors("connect"):
        conn: Connection = await asyncpg.connect(url)
    return conn


def _money(kopecks: int) -> Decimal:
    return Decimal(kopecks).scaleb(-2)


@dataclass(slots=True)
class PaymentWrite:
    """What happened to each row: recorded, already there (same), conflicting, unassigned."""

    recorded: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # the same id with other data
    unassigned: list[str] = field(default_factory=list)  # unknown account, kept apart


def _columns(rows: Sequence[PaymentRow], accounts: Sequence[str], source: str) -> list[object]:
    return [
        [r.id for r in rows],
        list(accounts),
        [r.day for r in rows],
        [r.amount for r in rows],
        [r.period for r in rows],
        [r.to for r in rows],
        [source] * len(rows),
        [r.line for r in rows],
    ]


def _same(row: PaymentRow, rec: asyncpg.Record) -> bool:
    return (rec["day"], rec["amount"], rec["period"], rec["target"]) == (
        row.day,
        _money(row.amount),
        row.period,
        row.to,
    )


async def record_payments(
    conn: asyncpg.Connection, rows: Sequence[PaymentRow], source: str
) -> PaymentWrite:
    """Records the rows in one transaction; idempotent on the payment id."""
    out = PaymentWrite()
    firsts: dict[str, PaymentRow] = {}
    for r in rows:  # a repeated id within the rows: the later ones are duplicates/conflicts
        firsts.setdefault(r.id, r)
    unique = list(firsts.values())
    async with store_errors("record payments"), conn.transaction():
        known = await known_accounts(conn, {r.account for r in unique})
        mine = [r for r in unique if r.account in known]
        other = [r for r in unique if r.account not in known]
        sql = _INSERT.format(table="payments")
        new = {
            rec["id"]
            for rec in await conn.fetch(
                sql, *_columns(mine, [known[r.account] for r in mine], source)
            )
        }
        assigned = {
            rec["id"]: rec
            for rec in await conn.fetch(
                "SELECT * FROM payments WHERE id = ANY($1::text[])", [r.id for r in other]
            )
        }
        spare = [r for r in other if r.id not in assigned]
        sql = _INSERT.format(table="unassigned_payments")
        apart = {
            rec["id"]
            for rec in await conn.fetch(sql, *_columns(spare, [r.account for r in spare], source))
        }
        old = {
            rec["id"]: rec
            for table in ("payments", "unassigned_payments")
            for rec in await conn.fetch(
                f"SELECT * FROM {table} WHERE id = ANY($1::text[])",
                [r.id for r in rows if r.id not in new and r.id not in apart],
            )
        }
    seen: set[str] = set()
    for r in rows:
        if r.id in seen or (r.id not in new and r.id not in apart):
            same = r.id in old and _same(r, old[r.id])
            (out.duplicates if same else out.conflicts).append(r.id)
        elif r.id in new:
            out.recorded.append(r.id)
        else:
            out.unassigned.append(r.id)
        seen.add(r.id)
    return out


async def record_rejects(conn: asyncpg.Connection, source: str, errors: Sequence[RowError]) -> int:
    """Keeps the rejected rows (once per file, line and text); returns how many were new."""
    async with store_errors("record rejected payment rows"):
        rows = await conn.fetch(
            "INSERT INTO payment_rejects (source, line, reason, detail, raw)"
            " SELECT $1, * FROM unnest($2::integer[], $3::text[], $4::text[], $5::text[])"
            " ON CONFLICT DO NOTHING RETURNING id",
            source,
            [e.line for e in errors],
            [e.reason for e in errors],
            [e.detail for e in errors],
            [e.raw for e in errors],
        )
    return len(rows)


async def assign_payment(conn: asyncpg.Connection, payment_id: str, account: str) -> str:
    """Moves an unassigned payment to a known account; returns the ledger's account key."""
    async with store_errors("assign payment"), conn.transaction():
        key = await conn.fetchval(
            "SELECT coalesce(account, id) FROM premises"
            " WHERE account = $1 OR (account IS NULL AND id = $1)",
            account,
        )
        if key is None:
            raise LedgerError(f"account {account}: no premise has this account")
        moved = await conn.fetchval(
            "WITH m AS (DELETE FROM unassigned_payments WHERE id = $1 RETURNING *)"
            " INSERT INTO payments (id, account, day, amount, period, target, source, line)"
            " SELECT id, $2, day, amount, period, target, source, line FROM m RETURNING id",
            payment_id,
            key,
        )
        if moved is None:
            raise LedgerError(f"payment {payment_id}: not among the unassigned payments")
    return str(key)


async def unassigned(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    async with store_errors("list unassigned payments"):
        return list(await conn.fetch("SELECT * FROM unassigned_payments ORDER BY day, id"))


async def add_key_rate(conn: asyncpg.Connection, valid_from: date, percent: Decimal) -> None:
    async with store_errors("add key rate"):
        await conn.execute(
            "INSERT INTO key_rates (valid_from, percent) VALUES ($1, $2)"
            " ON CONFLICT (valid_from) DO UPDATE SET percent = excluded.percent, added_at = now()",
            valid_from,
            percent,
        )


async def stored_key_rates(conn: asyncpg.Connection) -> list[tuple[int, int]]:
    """(day ordinal, basis points) of the rates operators added."""
    async with store_errors("read key rates"):
        rows = await conn.fetch("SELECT valid_from, percent FROM key_rates ORDER BY valid_from")
    return [(r["valid_from"].toordinal(), int(r["percent"] * 100)) for r in rows]


async def set_opening_debt(
    conn: asyncpg.Connection, account: str, period: date, amount: Decimal
) -> None:
    async with store_errors("set opening debt"):
        await conn.execute(
            "INSERT INTO opening_debts (account, period, amount) VALUES ($1, $2, $3)"
            " ON CONFLICT (account, period) DO UPDATE SET amount = excluded.amount,"
            " updated_at = now() WHERE opening_debts.amount IS DISTINCT FROM excluded.amount",
            account,
            period,
            amount,
        )


_KEY = "coalesce(p.account, p.id)"

_CHARGES = f"""
SELECT {_KEY} AS account, a.period, (sum(a.amount) * 100)::bigint AS kopecks
FROM accruals a JOIN premises p ON p.id = a.premise_id
WHERE a.period <= $1 AND ($2::text[] IS NULL OR {_KEY} = ANY($2::text[]))
GROUP BY 1, 2
UNION ALL
SELECT account, period, (amount * 100)::bigint FROM opening_debts
WHERE period <= $1 AND amount <> 0 AND ($2::text[] IS NULL OR account = ANY($2::text[]))
"""


def _payment(r: asyncpg.Record) -> Payment:
    p = r["period"]
    return Payment(
        id=r["id"],
        day=r["day"].toordinal(),
        amount=int(r["kopecks"]),
        period=None if p is None else month_index(p.year, p.month),
        to=r["target"],
    )


def _add_charge(book: dict[int, int], r: asyncpg.Record) -> None:
    period = month_index(r["period"].year, r["period"].month)
    if period in book:
        raise LedgerError(
            f"account {r['account']}: period {r['period']:%Y-%m} has both accruals "
            "and an opening debt (set the opening debt to 0 with "
            "`uchet payments opening-debts` if the accruals replace it)"
        )
    book[period] = int(r["kopecks"])


_PAYMENTS = """
SELECT id, account, day, (amount * 100)::bigint AS kopecks, period, target FROM payments
WHERE day <= $1 AND ($2::text[] IS NULL OR account = ANY($2::text[]))
"""


async def load_accounts(
    conn: asyncpg.Connection, until: date, keys: Sequence[str] | None = None
) -> list[Account]:
    """Every account with a charge, opening debt or payment by ``until``, ordered by id; or
    exactly the accounts ``keys`` (a resident, one ЕПД), each even without any."""
    wanted = None if keys is None else list(keys)
    charges: dict[str, dict[int, int]] = {k: {} for k in wanted or ()}
    payments: dict[str, list[Payment]] = {k: [] for k in wanted or ()}
    async with store_errors("read the ledger"):
        for r in await conn.fetch(_CHARGES, until, wanted):
            _add_charge(charges.setdefault(r["account"], {}), r)
        for r in await conn.fetch(_PAYMENTS + " ORDER BY account, day, id", until, wanted):
            payments.setdefault(r["account"], []).append(_payment(r))
    ids = sorted(set(charges) | set(payments))
    return [Account(a, charges.get(a, {}), tuple(payments.get(a, ()))) for a in ids]


def _accounts(charges: list[asyncpg.Record], payments: list[asyncpg.Record]) -> list[Account]:
    books: dict[str, dict[int, int]] = {}
    paid: dict[str, list[Payment]] = {}
    for r in charges:
        _add_charge(books.setdefault(r["account"], {}), r)
    for r in payments:
        paid.setdefault(r["account"], []).append(_payment(r))
    keys = sorted(books.keys() | paid.keys())
    return [Account(k, books.get(k, {}), tuple(paid.get(k, ()))) for k in keys]


async def stream_accounts(
    conn: asyncpg.Connection, until: date, rows: int = 50_000
) -> AsyncIterator[list[Account]]:
    """The accounts of :func:`load_accounts` (all of them), in the same order, in lists:
    charges and payments read through two cursors ordered by account, ``rows`` at a time, an
    account handed on once both cursors have passed it, so memory stays that of a few
    batches. Must run inside a transaction (a repeatable-read one for a consistent month)."""
    by = ' ORDER BY account COLLATE "C"'
    async with store_errors("read the ledger"):
        cursors = [
            await conn.cursor(f"SELECT * FROM ({_CHARGES}) c{by}, period", until, None),
            await conn.cursor(_PAYMENTS + by + ", day, id", until, None),
        ]
        bufs: list[list[asyncpg.Record]] = [[], []]
        done = [False, False]
        need = [True, True]
        while True:
            for i in (0, 1):
                if need[i] and not done[i]:
                    got = await cursors[i].fetch(rows)
                    done[i] = len(got) < rows
                    bufs[i].extend(got)
            # an account below every unfinished cursor's last one is complete in both
            lasts = [bufs[i][-1]["account"] for i in (0, 1) if not done[i] and bufs[i]]
            bound = min(lasts) if lasts else None
            taken = []
            for i in (0, 1):
                keys = [r["account"] for r in bufs[i]]
                cut = len(keys) if bound is None else bisect_left(keys, bound)
                taken.append(bufs[i][:cut])
                del bufs[i][:cut]
                need[i] = not bufs[i] or bufs[i][-1]["account"] == bound
            if taken[0] or taken[1]:
                yield _accounts(taken[0], taken[1])
            if all(done) and not bufs[0] and not bufs[1]:
                return


# --- reads for the ledger's API, ЕПД and pages (issue 19) ---


async def account_key(conn: asyncpg.Connection, premise_id: str) -> str | None:
    """The ledger's account key of a premise (its лицевой счёт, else its id)."""
    async with store_errors("read account"):
        key = await conn.fetchval(f"SELECT {_KEY} FROM premises p WHERE p.id = $1", premise_id)
    return None if key is None else str(key)


async def account_details(
    conn: asyncpg.Connection, *, accounts: Sequence[str] | None = None, house: str | None = None
) -> list[asyncpg.Record]:
    """Per account: key, premise_id, house_id, address, area, residents (ordered by key)."""
    async with store_errors("read accounts"):
        return list(
            await conn.fetch(
                f"SELECT {_KEY} AS key, p.id AS premise_id, p.house_id, h.address, p.area,"
                " p.residents FROM premises p JOIN houses h ON h.id = p.house_id"
                f" WHERE ($1::text[] IS NULL OR {_KEY} = ANY($1::text[]))"
                " AND ($2::text IS NULL OR p.house_id = $2) ORDER BY 1",
                None if accounts is None else list(accounts),
                house,
            )
        )


async def month_accruals(
    conn: asyncpg.Connection, premise_ids: Sequence[str], period: date
) -> list[asyncpg.Record]:
    """The period's accrual lines (premise_id, service, method, volume, tariff, amount)."""
    async with store_errors("read accruals"):
        return list(
            await conn.fetch(
                "SELECT premise_id, service, method, volume, tariff, amount FROM accruals"
                " WHERE period = $1 AND premise_id = ANY($2::text[])"
                " ORDER BY premise_id, service, method",
                period,
                list(premise_ids),
            )
        )


async def house_list(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every house (id, address) that has premises, ordered by id (the pages' filter)."""
    async with store_errors("read houses"):
        return list(
            await conn.fetch(
                "SELECT h.id, h.address FROM houses h"
                " WHERE EXISTS (SELECT 1 FROM premises p WHERE p.house_id = h.id) ORDER BY h.id"
            )
        )
