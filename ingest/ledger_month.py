"""A month's settled statements saved (issue #19): every account settled as of the month's
report day in batches read by cursor (memory of one batch), its figures, aging and oldest
unpaid due date written by binary COPY, and the collection rate's sums per house and period;
re-saving a month replaces it whole."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from adapters.store.ledger import Connection, stored_key_rates, stream_accounts
from adapters.store.ledger_month import (
    account_houses,
    begin_month,
    copy_month_rows,
    finish_month,
    month_transaction,
)
from core.ledger import LedgerError
from core.ledger.aging import BUCKET_NAMES, aging
from core.ledger.allocate import settle
from core.ledger.collection import Collected, collected
from core.ledger.dates import charged_on, first_day
from core.ledger.key_rates import merged
from core.ledger.model import Account, KeyRates
from core.ledger.statement import statement
from ingest.settling import SETTINGS

COLLECTION_MONTHS = 36  # the most periods a collection view asks for
BATCH = 20_000


@dataclass(frozen=True, slots=True)
class SavedMonth:
    month: int
    as_of: int
    accounts: int
    debtors: int
    seconds: float


def _day(ordinal: int) -> date:
    return date.fromordinal(ordinal)


class MonthRows:
    """Settles batches of accounts into rows of the saved month, summing collection."""

    def __init__(self, month: int, day: int, rates: KeyRates, houses: dict[str, str]) -> None:
        self.month, self.day, self.rates, self.houses = month, day, rates, houses
        self.periods = [
            p for p in range(month - COLLECTION_MONTHS + 1, month + 1) if charged_on(p) <= day
        ]
        self.collection: dict[tuple[str | None, int], Collected] = {}

    def rows(self, accounts: list[Account]) -> list[tuple[Any, ...]]:
        out = []
        month = _day(first_day(self.month))
        for a in accounts:
            try:
                settled = settle(a, self.day, self.rates, SETTINGS)
                s = statement(settled, self.month, self.day, self.rates, SETTINGS)
            except LedgerError as exc:
                raise LedgerError(f"account {a.id}: {exc}") from exc
            house = self.houses.get(a.id)
            for p, c in collected(settled, self.periods, self.day).items():
                self.collection.setdefault((house, p), Collected()).add(c)
            buckets = aging(s)
            debt = sum(buckets.values())
            penalty_due = max(s.penalty_due, 0)
            unpaid = [p for p in s.periods if p.debt > 0]
            out.append(
                (
                    month, a.id, house,
                    s.opening_balance, s.charged, s.paid, s.penalty_month, s.penalty_total,
                    s.penalty_paid, s.closing_balance,
                    *(buckets[k] for k in BUCKET_NAMES),
                    debt, penalty_due, debt + penalty_due,
                    _day(min(p.due for p in unpaid)) if unpaid else None,
                    max((p.delay_days for p in unpaid), default=0),
                )
            )  # fmt: skip
        return out

    def collection_rows(self) -> list[tuple[str | None, date, int, int]]:
        return [
            (house, _day(first_day(p)), c.charged, c.paid)
            for (house, p), c in self.collection.items()
        ]


async def save_month(
    conn: Connection,
    month: int,
    day: int,
    on_progress: Callable[[int, int], None] | None = None,
    *,
    batch: int = BATCH,
) -> SavedMonth:
    """Settles every account of the store for ``month`` as of ``day`` and saves the month
    (replacing a saved one) in one transaction; ``on_progress(done, about)``, exact at the
    end."""
    started = time.perf_counter()
    m = _day(first_day(month))
    async with month_transaction(conn):
        snap = await begin_month(conn, m, _day(day))
        houses = await account_houses(conn)
        work = MonthRows(month, day, merged(await stored_key_rates(conn)), houses)
        done = 0
        async for chunk in stream_accounts(conn, _day(day), batch):
            await copy_month_rows(conn, m, work.rows(chunk))
            done += len(chunk)
            if on_progress is not None:  # the premises are about the accounts
                on_progress(done, max(done, len(houses)))
        if on_progress is not None:
            on_progress(done, done)
        accounts, debtors = await finish_month(
            conn, m, _day(day), snap, work.collection_rows(),
            seconds=time.perf_counter() - started,
        )  # fmt: skip
    return SavedMonth(month, day, accounts, debtors, time.perf_counter() - started)
