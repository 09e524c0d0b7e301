"""Opening debts written from an import (``uchet payments opening-debts``): idempotent, each
row refused with a reason where the ledger could not take it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import asyncpg

from adapters.payments.opening_debts import OpeningDebt
from adapters.store.db import store_errors
from adapters.store.ledger import known_accounts

_BILLED = """
SELECT DISTINCT u.account, u.period
FROM unnest($1::text[], $2::date[]) AS u(account, period)
JOIN premises p ON coalesce(p.account, p.id) = u.account
JOIN accruals a ON a.premise_id = p.id AND a.period = u.period
"""

_UPSERT = """
INSERT INTO opening_debts (account, period, amount, updated_at)
SELECT u.account, u.period, u.amount, now()
FROM unnest($1::text[], $2::date[], $3::numeric[]) AS u(account, period, amount)
ON CONFLICT (account, period) DO UPDATE SET amount = excluded.amount, updated_at = now()
WHERE opening_debts.amount IS DISTINCT FROM excluded.amount
RETURNING (xmax = 0) AS inserted
"""


@dataclass(slots=True)
class OpeningWrite:
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    refused: list[tuple[OpeningDebt, str, str]] = field(default_factory=list)  # row, reason, why


async def write_opening_debts(
    conn: asyncpg.Connection, rows: Sequence[OpeningDebt]
) -> OpeningWrite:
    """Sets each row's debt (a changed amount replaces the stored one) in one transaction.
    Refused: an account no premise has (a typo would make a phantom debtor), and a debt (not
    0) of a period the store already has accruals of for that account (the ledger takes one
    or the other; 0 clears one set before that period was billed)."""
    out = OpeningWrite()
    async with store_errors("write opening debts"), conn.transaction():
        known = await known_accounts(conn, (r.account for r in rows))
        billed = {
            (r["account"], r["period"])
            for r in await conn.fetch(_BILLED, [r.account for r in rows], [r.period for r in rows])
        }
        good = []
        for r in rows:
            if r.account not in known:
                out.refused.append((r, "unknown_account", f"account {r.account} has no premise"))
            elif r.amount and (r.account, r.period) in billed:  # clearing one always may
                why = f"account {r.account} already has accruals of {r.period:%Y-%m}"
                out.refused.append((r, "period_billed", why))
            else:
                good.append(r)
        written = await conn.fetch(
            _UPSERT,
            [r.account for r in good],
            [r.period for r in good],
            [Decimal(r.amount).scaleb(-2) for r in good],
        )
    out.added = sum(1 for w in written if w["inserted"])
    out.changed = len(written) - out.added
    out.unchanged = len(good) - len(written)
    return out
