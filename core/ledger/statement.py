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
        paid_sum = sum(x for _, x in paid)
        if prev <= due:
            then = 0
        elif paid_sum == charge and max(d for d, _ in paid) <= prev:
            then = now  # paid off before the month: nothing changes after the payment day
        else:
            then = penalty(charge, due, paid, prev, rates, settings)
        total += now
        before += then
        debt = charge - paid_sum
        if debt == 0 and now == then:
            continue
        end = day if debt else max(d for d, _ in paid)
        lines.append(
            PeriodLine(period, due, charge, paid_sum, debt, max(0, end - due), now, now - then)
        )
    charged_by = charged = credits = 0
    for p, c in account.charges.items():
        on = charged_on(p)
        if on <= day:
            charged_by += c
            credits += -c if c < 0 else 0
            charged += c if on > prev else 0
    paid_by = paid_before = 0
    for pay in account.payments:
        if pay.day <= day:
            paid_by += pay.amount
            paid_before += pay.amount if pay.day <= prev else 0
    to_penalty = to_penalty_before = to_charges = 0
    month_allocations = []
    for i, a in enumerate(settled.allocations):
        if a.day > day:
            continue
        if a.to == PENALTY:
            to_penalty += a.amount
            to_penalty_before += a.amount if a.day <= prev else 0
        else:
            to_charges += a.amount
        if a.day > prev:
            month_allocations.append(i)
    closing = charged_by - paid_by + to_penalty
    opening = closing - charged + (paid_by - paid_before) - (to_penalty - to_penalty_before)
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
        allocations=tuple(month_allocations),
        advance=paid_by - to_penalty + credits - to_charges,
    )
