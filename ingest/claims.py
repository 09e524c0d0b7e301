"""Use cases of the claims workflow: open a claim for a debtor, move it to a stage, close it,
list claims, find the debtors due a notice, and draw (and keep) the letter of a stage.

The debt and penalty of every event come from the ledger settled as of the event's day."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from adapters.payments.claim_letter import Letter, claim_letter_pdf
from adapters.payments.payer import payer_of
from adapters.store.claims import (
    ClaimRecord,
    EventRecord,
    add_event,
    get_claim,
    insert_claim,
    keep_letter,
    kept_letter,
    open_claim_accounts,
)
from adapters.store.ledger import Connection, account_details
from core.ledger.allocate import settle
from core.ledger.claims import (
    CLOSED,
    ClaimError,
    Debt,
    advance_event,
    close_event,
    debt_as_of,
    open_event,
)
from core.ledger.model import Account, KeyRates
from core.ledger.payment_qr import Payee
from ingest.settling import SETTINGS, each_account


def _debt_of(day: int) -> Callable[[Account, KeyRates], Debt]:
    def each(account: Account, rates: KeyRates) -> Debt:
        return debt_as_of(settle(account, day, rates, SETTINGS), day, rates, SETTINGS)

    return each


async def debts(
    conn: Connection,
    day: int,
    keys: Sequence[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Debt]:
    """The overdue debt and penalty as of ``day`` of the store's accounts (or of ``keys``),
    worked off the event loop when there are several."""
    return await each_account(conn, day, _debt_of(day), keys, on_progress)


async def _known(conn: Connection, account: str) -> None:
    if not await account_details(conn, accounts=[account]):
        raise ClaimError(f"лицевой счёт {account} не найден", "not-found")


async def _debt(conn: Connection, account: str, day: int) -> Debt:
    (debt,) = await debts(conn, day, [account])
    return debt


async def claim(conn: Connection, claim_id: int) -> ClaimRecord:
    found = await get_claim(conn, claim_id)
    if found is None:
        raise ClaimError(f"претензия № {claim_id} не найдена", "not-found")
    return found


async def open_claim(
    conn: Connection, account: str, day: int, today: int, *, actor: str, note: str = ""
) -> ClaimRecord:
    """Opens a claim at the notice stage for an account with an overdue debt on ``day``."""
    await _known(conn, account)
    event = open_event(await _debt(conn, account, day), day, today, note)
    return await claim(conn, await insert_claim(conn, account, event, actor, None))


async def advance_claim(
    conn: Connection,
    claim_id: int,
    stage: str,
    day: int,
    today: int,
    *,
    actor: str,
    note: str = "",
    document: str | None = None,
) -> ClaimRecord:
    """Moves the claim to ``stage`` on ``day``, with the debt and penalty of that day."""
    c = await claim(conn, claim_id)
    event = advance_event(c.history, stage, await _debt(conn, c.account, day), day, today, note)
    await add_event(conn, claim_id, c.stage, event, actor, document)
    return await claim(conn, claim_id)


async def close_claim(
    conn: Connection,
    claim_id: int,
    reason: str,
    day: int,
    today: int,
    *,
    actor: str,
    note: str = "",
) -> ClaimRecord:
    """Closes the claim: ``paid`` (no overdue debt left on ``day``) or ``written_off``."""
    c = await claim(conn, claim_id)
    event = close_event(c.history, reason, await _debt(conn, c.account, day), day, today, note)
    await add_event(conn, claim_id, c.stage, event, actor, None)
    return await claim(conn, claim_id)


@dataclass(frozen=True, slots=True)
class Candidate:
    debt: Debt
    house: str | None
    address: str | None


async def candidates(
    conn: Connection,
    day: int,
    *,
    min_debt: int,
    min_days: int,
    house: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Candidate]:
    """Debtors eligible for a notice on ``day``: overdue debt ≥ ``min_debt`` kopecks, the oldest
    unpaid period ≥ ``min_days`` overdue, and no open claim; the biggest debt first."""
    details = {r["key"]: r for r in await account_details(conn, house=house)}
    busy = await open_claim_accounts(conn)
    # a whole store is read at once (no list of keys to send); a house's accounts by key
    keys = None if house is None else [k for k in details if k not in busy]
    out = []
    for d in await debts(conn, day, keys, on_progress):
        r = details.get(d.account)
        if r is None or d.account in busy:  # no premise, or a claim already open
            continue
        if d.debt >= min_debt and d.debt > 0 and d.oldest_delay >= min_days:
            out.append(Candidate(d, r["house_id"], r["address"]))
    out.sort(key=lambda c: (-c.debt.debt, c.debt.account))
    return out


def letter_name(c: ClaimRecord, e: EventRecord) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in c.account)[:100]
    return f"claim-{c.id}-{e.event.stage}-{safe}.pdf"


async def stage_letter(
    conn: Connection, claim_id: int, payee: Payee, *, fresh: bool = False
) -> tuple[str, bytes]:
    """The letter of the claim's latest stage, dated that stage's day: the one kept when it
    was first drawn — what was sent is what is shown again, it is never replaced. ``fresh``
    draws it anew and gives that without keeping it (the name says ``redrawn``).

    Its totals are the stage's recorded debt and penalty; the tables by period are the
    ledger's as of the stage's day recalculated now — when entries recorded since make them
    differ from the recorded figures, the letter says so (see docs/claims.md)."""
    c = await claim(conn, claim_id)
    stages = [e for e in c.events if e.event.stage != CLOSED]
    e = stages[-1]
    if not fresh:
        kept = await kept_letter(conn, e.id)
        if kept is not None:
            return kept
    details = await account_details(conn, accounts=[c.account])
    if not details:
        raise ClaimError(f"лицевой счёт {c.account} не найден", "not-found")
    payer = payer_of(details[0], addressee=True)
    debt = await _debt(conn, c.account, e.event.day)
    ev = e.event
    letter = Letter(f"{c.id}-{ev.stage}", ev.stage, ev.day, debt=ev.debt, penalty=ev.penalty)
    # ~0.05 s of drawing: off the event loop
    pdf = await asyncio.to_thread(claim_letter_pdf, payee, payer, letter, debt)
    name = letter_name(c, e)
    if fresh:
        return name.removesuffix(".pdf") + "-redrawn.pdf", pdf
    return await keep_letter(conn, e.id, name, pdf)  # another's kept meanwhile: that one
