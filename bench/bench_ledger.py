"""A month's ledger for N accounts in the pure core: every account settled (allocation day by
day, penalties in closed form) and its statement for the month built.

    python bench/bench_ledger.py [--accounts 1000000] [--sample 200] [--seed 1]

Each account has 12 months of charges (2025-06 … 2026-05, a credit now and then) and a mix of
payers: on time, late, partial with a named period, advance payers, payments to the penalty,
and debtors who never pay. The statement of 2026-06 is settled as of 2026-06-30.
Baseline, measured in the same run: the same statements with each penalty computed the way
the spec words it, a per-account loop over every day of delay in exact fractions
(tests/ledger/reference.py), timed on ``--sample`` accounts and scaled to N; the penalty
totals of the sample must agree to the kopeck.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import core.ledger.allocate as allocate_module
import core.ledger.statement as statement_module
from core.ledger.allocate import settle
from core.ledger.dates import last_day, month_index
from core.ledger.key_rates import merged
from core.ledger.model import Account, LedgerSettings, Payment
from core.ledger.money import half_up
from core.ledger.statement import statement
from tests.ledger.reference import reference_penalty

FIRST = month_index(2025, 6)
MONTH = month_index(2026, 6)


def make_accounts(n: int, seed: int) -> list[Account]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        charges = {FIRST + k: rng.randint(150_000, 900_000) for k in range(12)}
        if rng.random() < 0.05:
            charges[FIRST + rng.randint(1, 11)] = -rng.randint(5_000, 50_000)
        kind = rng.random()
        payments = []
        for k in range(12):
            period = FIRST + k
            pay_day = last_day(period) + rng.randint(3, 25)
            if kind < 0.55:  # on time
                amount = max(charges[period], 100)
            elif kind < 0.75:  # late and partial, naming the period
                pay_day += rng.randint(20, 100)
                amount = max(charges[period] * rng.randint(40, 100) // 100, 100)
            elif kind < 0.85:  # advance once a quarter
                if k % 3:
                    continue
                amount = 3 * 600_000
            elif kind < 0.95:  # irregular, sometimes to the penalty
                if rng.random() < 0.4:
                    continue
                amount = rng.randint(50_000, 1_500_000)
            else:  # a debtor
                continue
            if pay_day > last_day(MONTH):
                continue
            to = "penalty" if kind >= 0.85 and rng.random() < 0.1 else "charges"
            named = period if kind >= 0.55 and kind < 0.75 else None
            payments.append(Payment(f"{i}-{k}", pay_day, amount, named, to))
        out.append(Account(str(i), charges, tuple(payments)))
    return out


def month_ledger(accounts: list[Account]) -> int:
    rates = merged([])
    s = LedgerSettings()
    as_of = last_day(MONTH)
    total = 0
    for account in accounts:
        settled = settle(account, as_of, rates, s)
        total += statement(settled, MONTH, as_of, rates, s).penalty_total
    return total


def reference_ledger(accounts: list[Account]) -> int:
    def penalty(*args: object) -> int:
        exact = reference_penalty(*args)  # type: ignore[arg-type]
        return half_up(exact.numerator, exact.denominator)

    saved = (allocate_module.penalty, statement_module.penalty)
    allocate_module.penalty = statement_module.penalty = penalty  # type: ignore[assignment]
    try:
        return month_ledger(accounts)
    finally:
        allocate_module.penalty, statement_module.penalty = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    t0 = time.perf_counter()
    accounts = make_accounts(args.accounts, args.seed)
    t_make = time.perf_counter() - t0
    gc.freeze()  # the generated accounts are long-lived: keep the collector off them
    payments = sum(len(a.payments) for a in accounts)
    t0 = time.perf_counter()
    total = month_ledger(accounts)
    t_core = time.perf_counter() - t0

    sample = accounts[: args.sample]
    t0 = time.perf_counter()
    fast = month_ledger(sample)
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    slow = reference_ledger(sample)
    t_ref = time.perf_counter() - t0
    assert fast == slow, (fast, slow)
    scaled = t_ref / len(sample) * len(accounts)

    print(f"accounts {len(accounts):,}, payments {payments:,} (generated in {t_make:.1f} s)")
    print(
        f"core: month 2026-06 settled in {t_core:.1f} s, "
        f"{len(accounts) / t_core:,.0f} accounts/s; penalties {total / 100:,.2f} ₽"
    )
    print(
        f"reference (day-by-day fractions) on {len(sample)} accounts: {t_ref:.2f} s "
        f"(core on the same: {t_fast:.3f} s); scaled to N: {scaled:,.0f} s; "
        f"ratio {t_ref / t_fast:.0f}×; sample penalties agree: {fast / 100:,.2f} ₽"
    )


if __name__ == "__main__":
    main()
