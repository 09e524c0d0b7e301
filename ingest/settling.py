"""The store's accounts settled as of a day, each worked by a pure function (a statement, a
claim's debt) — with the key rates and the accounts read once, and a whole store worked in a
thread so the API's event loop keeps answering meanwhile. The ledger's one ``SETTINGS``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeVar

from adapters.store.ledger import Connection, load_accounts, stored_key_rates
from core.ledger.errors import LedgerError
from core.ledger.key_rates import merged
from core.ledger.model import Account, KeyRates, LedgerSettings

SETTINGS = LedgerSettings()
T = TypeVar("T")
Each = Callable[[Account, KeyRates], T]


async def each_account(
    conn: Connection,
    day: int,
    each: Each[T],
    keys: Sequence[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[T]:
    """``each(account, rates)`` of the store's accounts with entries up to ``day`` (or exactly
    of ``keys``), ordered by account; an account's error names it. More than one account is
    worked off the event loop (``on_progress(done, total)`` is then called from that thread)."""
    rates = merged(await stored_key_rates(conn))
    accounts = await load_accounts(conn, date.fromordinal(day), keys)
    if len(accounts) <= 1:  # a resident's balance, one claim: not worth a thread
        return _each(accounts, rates, each, on_progress)
    return await asyncio.to_thread(_each, accounts, rates, each, on_progress)


def _each(
    accounts: list[Account],
    rates: KeyRates,
    each: Each[T],
    on_progress: Callable[[int, int], None] | None,
) -> list[T]:
    out = []
    for i, a in enumerate(accounts, 1):
        try:
            out.append(each(a, rates))
        except LedgerError as exc:
            raise LedgerError(f"account {a.id}: {exc}") from exc
        if on_progress is not None and (i % 500 == 0 or i == len(accounts)):
            on_progress(i, len(accounts))
    return out
