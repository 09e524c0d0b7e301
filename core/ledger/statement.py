"""Monthly statements of a settled account: balances, periods, penalties, allocations."""

from __future__ import annotations

from dataclasses import dataclass

from core.ledger.dates import charged_on, due_date, first_day
from core.ledger.model import CHARGES, PENALTY, KeyRates, LedgerSettings, Settled
from core.ledger.penalty import penalty


@dataclass(frozen=True, slots=True)
class PeriodLine:
    period: int
    due: int
    charge: int
    paid: int
    debt: int
    delay_days: int
    penalty_total: int
    penalty_month: int


@dataclass(frozen=True, slots=True)
class Statement:
    month: int
    day: int
    opening_balance: int
    charged: int
    paid: int
    closing_balance: int
    periods: tuple[PeriodLine, ...]
    penalty_month: int
    penalty_total: int
    penalty_paid: int
    allocations: tuple[int, ...]  # indexes into Settled.allocations
    advance: int

    @property
    def penalty_due(self) -> int:
        return self.penalty_total - self.penalty_paid


def _balance(settled: Settled, day: int) -> int:
    """Charges charged by ``day`` minus payments to charges dated by ``day``."""
    account = settled.account
    charged = sum(c for p, c in account.charges.items() if charged_on(p) <= day)
    paid = sum(p.amount for p in account.payments if p.day <= day)
    to_penalty = sum(a.amount for a in settled.allocations if a.to == PENALTY and a.day <= day)
    return charged - paid + to_penalty


def statement(
    settled: Settled, month: int, day: int, rates: KeyRates, settings: LedgerSettings
) -> Statement:
    """The statement of ``month`` as of ``day`` (its last day, or the settlement date)."""
    account = settled.account
    prev = first_day(month) - 1
    paid_to: dict[int, list[tuple[int, int]]] = {}
    for a in settled.allocations:
        if a.to == CHARGES and a.day <= day:
            paid_to.setdefault(a.period, []).append((a.day, a.amount))
    lines = []
    total = before = 0
    for period in sorted(account.charges):
        charge = account.charges[period]
        if charge <= 0 or charged_on(period) > day:
            continue
        due = due_date(period, settings.due_day)
        paid = paid_to.get(period, [])
        now = penalty(charge, due, paid, day, rates, settings)
        then = penalty(charge, due, paid, prev, rates, settings) if prev > due else 0
        total += now
        before += then
        paid_sum = sum(x for _, x in paid)
        debt = charge - paid_sum
        if debt == 0 and now == then:
            continue
        end = day if debt else max(d for d, _ in paid)
        lines.append(
            PeriodLine(period, due, charge, paid_sum, debt, max(0, end - due), now, now - then)
        )
    opening = _balance(settled, prev)
    closing = _balance(settled, day)
    charged = sum(c for p, c in account.charges.items() if prev < charged_on(p) <= day)
    credits = sum(-c for p, c in account.charges.items() if c < 0 and charged_on(p) <= day)
    paid_in = sum(p.amount for p in account.payments if p.day <= day)
    to_penalty = sum(a.amount for a in settled.allocations if a.to == PENALTY and a.day <= day)
    to_charges = sum(a.amount for a in settled.allocations if a.to == CHARGES and a.day <= day)
    return Statement(
        month=month,
        day=day,
        opening_balance=opening,
        charged=charged,
        paid=opening + charged - closing,
        closing_balance=closing,
        periods=tuple(lines),
        penalty_month=total - before,
        penalty_total=total,
        penalty_paid=to_penalty,
        allocations=tuple(i for i, a in enumerate(settled.allocations) if prev < a.day <= day),
        advance=paid_in - to_penalty + credits - to_charges,
    )
