"""Allocation of payments to periods (Пленум ВС РФ № 22, п.32), day by day.

On each day: the periods charged that day (their debts appear), then credits pay the oldest
debts, then advances pay the debts (oldest period first, oldest advance first), then the day's
payments in order of id — to the penalty, to a named period, or to the oldest debts — with what
is left over carried as an advance.
"""

from __future__ import annotations

from collections import deque

from core.ledger.dates import charged_on, due_date, period_name
from core.ledger.model import (
    CHARGES,
    PENALTY,
    Account,
    Allocation,
    KeyRates,
    LedgerSettings,
    Payment,
    Settled,
)
from core.ledger.penalty import penalty


class _State:
    def __init__(self, account: Account, rates: KeyRates, settings: LedgerSettings) -> None:
        self.account = account
        self.rates = rates
        self.settings = settings
        self.debt: dict[int, int] = {}  # charged periods with a positive charge → unpaid
        self.paid: dict[int, list[tuple[int, int]]] = {}
        self.penalty_paid: dict[int, int] = {}
        self.advances: deque[tuple[str, int]] = deque()  # (payment id, kopecks left)
        self.out: list[Allocation] = []

    def allocate(self, payer: str, day: int, period: int, amount: int, to: str) -> None:
        self.out.append(Allocation(payer, day, period, amount, to))
        if to == CHARGES:
            self.debt[period] -= amount
            self.paid[period].append((day, amount))
        else:
            self.penalty_paid[period] = self.penalty_paid.get(period, 0) + amount

    def pay_oldest(self, payer: str, day: int, amount: int) -> int:
        """Pays the oldest debts; returns what is left."""
        for period in sorted(p for p, d in self.debt.items() if d > 0):
            if amount == 0:
                break
            part = min(amount, self.debt[period])
            self.allocate(payer, day, period, part, CHARGES)
            amount -= part
        return amount

    def charge(self, day: int, periods: list[int]) -> None:
        charges = self.account.charges
        for period in periods:
            if charges[period] > 0:
                self.debt[period] = charges[period]
                self.paid[period] = []
        for period in periods:
            if charges[period] < 0:
                payer = f"credit:{period_name(period)}"
                rest = self.pay_oldest(payer, day, -charges[period])
                if rest:
                    self.advances.append((payer, rest))
        while self.advances and any(d > 0 for d in self.debt.values()):
            payer, left = self.advances.popleft()
            rest = self.pay_oldest(payer, day, left)
            if rest:
                self.advances.appendleft((payer, rest))

    def pay(self, p: Payment) -> None:
        amount = p.amount
        if p.to == PENALTY:
            for period in sorted(self.debt):
                if amount == 0:
                    break
                due = due_date(period, self.settings.due_day)
                accrued = penalty(
                    self.account.charges[period],
                    due,
                    self.paid[period],
                    p.day,
                    self.rates,
                    self.settings,
                )
                owed = accrued - self.penalty_paid.get(period, 0)
                if owed > 0:
                    part = min(owed, amount)
                    self.allocate(p.id, p.day, period, part, PENALTY)
                    amount -= part
        if amount and p.period is not None and self.debt.get(p.period, 0) > 0:
            part = min(amount, self.debt[p.period])
            self.allocate(p.id, p.day, p.period, part, CHARGES)
            amount -= part
        if amount:
            amount = self.pay_oldest(p.id, p.day, amount)
        if amount:
            self.advances.append((p.id, amount))


def settle(account: Account, until: int, rates: KeyRates, settings: LedgerSettings) -> Settled:
    """Processes the account's charges and payments up to day ``until`` (inclusive)."""
    state = _State(account, rates, settings)
    by_day: dict[int, tuple[list[int], list[Payment]]] = {}
    for period in account.charges:
        day = charged_on(period)
        if day <= until:
            by_day.setdefault(day, ([], []))[0].append(period)
    for p in account.payments:
        by_day.setdefault(p.day, ([], []))[1].append(p)
    for day in sorted(by_day):
        periods, payments = by_day[day]
        if periods:
            state.charge(day, sorted(periods))
        for p in sorted(payments, key=lambda p: p.id):
            state.pay(p)
    return Settled(account, state.out)
