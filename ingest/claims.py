"""Use cases of the claims workflow: open a claim for a debtor, move it to a stage, close it,
list claims, find the debtors due a notice, and draw (and keep) the letter of a stage.

The debt and penalty of every event come from the ledger settled as of the event's day."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from adapters.payments.claim_letter import Letter, claim_letter_pdf
from adapters.payments.epd import Payer
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
from adapters.store.ledger import Connection, account_details, load_accounts, stored_key_rates
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
from core.ledger.errors import LedgerError
from core.ledger.key_rates import merged
from core.ledger.model import LedgerSettings
from core.ledger.payment_qr import Payee

SETTINGS = LedgerSettings()


async def debts(conn: Connection, day: int, keys: Sequence[str] | None = None) -> list[Debt]:
    """The overdue debt and penalty as of ``day`` of the store's accounts (or of ``keys``)."""
    rates = merged(await stored_key_rates(conn))
    out = []
    for account in await load_accounts(conn, date.fromordinal(day), keys):
        try:
            out.append(debt_as_of(settle(account, day, rates, SETTINGS), day, rates, SETTINGS))
        except LedgerError as exc:
            raise LedgerError(f"account {account.id}: {exc}") from exc
    return out


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
    keys = [k for k in details if k not in busy]
    out = []
    step = 200
    for i in range(0, len(keys), step):
        for d in await debts(conn, day, keys[i : i + step]):
            if d.debt >= min_debt and d.debt > 0 and d.oldest_delay >= min_days:
                r = details[d.account]
                out.append(Candidate(d, r["house_id"], r["address"]))
        if on_progress is not None:
            on_progress(min(i + step, len(keys)), len(keys))
    out.sort(key=lambda c: (-c.debt.debt, c.debt.account))
    return out


def letter_name(c: ClaimRecord, e: EventRecord) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in c.account)[:100]
    return f"claim-{c.id}-{e.event.stage}-{safe}.pdf"


async def stage_letter(
    conn: Connection, claim_id: int, payee: Payee, *, fresh: bool = False
) -> tuple[str, bytes]:
    """The letter of the claim's latest stage, as of that stage's day: the one kept when it was
    first drawn (what was sent), or drawn now and kept (``fresh`` draws it again)."""
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
    d = details[0]
    payer = Payer(
        account=c.account,
        name=f"Собственнику (нанимателю) помещения {d['premise_id']}",
        address=f"{d['address'] or d['house_id']}, помещение {d['premise_id']}",
        area=str(d["area"]),
        residents=d["residents"],
    )
    debt = await _debt(conn, c.account, e.event.day)
    letter = Letter(f"{c.id}-{e.event.stage}", e.event.stage, e.event.day)
    # ~0.05 s of drawing: off the event loop
    pdf = await asyncio.to_thread(claim_letter_pdf, payee, payer, letter, debt)
    name = letter_name(c, e)
    await keep_letter(conn, e.id, name, pdf)
    return name, pdf
