"""A month's ledger for N accounts in the pure core: every account settled (allocation day by
day, penalties in closed form) and its statement for the month built.

    python bench/bench_ledger.py [--accounts 1000000] [--sample 200] [--seed 1]
    python bench/bench_ledger.py --store [--accounts 1000000] [--live]

``--store`` (issue 19's saved month): the same accounts written to a PostgreSQL database
(``UCHET_BENCH_DB``, default postgresql://postgres@127.0.0.1:5432/uchet_bench_ledger_N, kept
between runs) as premises of houses of 100, one accrual line per period and the payments;
then ``uchet ledger --month 2026-06 --save`` timed in a child process (its peak memory), and
the debtors views timed on the saved month: first page, a house, a bucket, one house's
export, the collection rate. ``--live``: the same views settled live, in the same run, for
the ratio (minutes at 1M).

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
import asyncio
import gc
import os
import random
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import core.ledger.allocate as allocate_module
import core.ledger.statement as statement_module
from core.ledger.allocate import settle
from core.ledger.dates import first_day, last_day, month_index
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
    parser.add_argument("--store", action="store_true", help="the saved month in PostgreSQL")
    parser.add_argument("--live", action="store_true", help="with --store: the live views too")
    parser.add_argument("--save-child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.save_child:
        save_child(args.save_child)
        return
    if args.store:
        store_bench(args.accounts, args.seed, live=args.live)
        return

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


# --- the saved month in PostgreSQL (--store) ---


def _rub(kopecks: int) -> Decimal:
    return Decimal(kopecks).scaleb(-2)


def _key(i: int) -> str:
    return f"{i:010d}"


async def _fill(url: str, n: int, seed: int) -> None:
    """Houses of 100 premises, one accrual line per period, the payments (by COPY)."""
    accounts = make_accounts(n, seed)
    conn = await asyncpg.connect(url)
    try:
        houses = (n + 99) // 100
        await conn.copy_records_to_table(
            "houses",
            records=[(f"h{h:05d}", f"г. Тверь, ул. Расчётная, д. {h}") for h in range(houses)],
            columns=("id", "address"),
        )
        await conn.copy_records_to_table(
            "premises",
            records=[(f"p{i}", f"h{i // 100:05d}", _key(i), Decimal(50)) for i in range(n)],
            columns=("id", "house_id", "account", "area"),
        )
        run = await conn.fetchval(
            "INSERT INTO billing_runs (period, started_at, premises, meters, lines, total,"
            " totals, load_s, compute_s, write_s)"
            " VALUES ('2026-05-01', now(), $1, 0, 0, 0, '{}', 0, 0, 0) RETURNING id",
            n,
        )
        step = 50_000
        for lo in range(0, n, step):
            chunk = accounts[lo : lo + step]
            lines = [
                (date.fromordinal(first_day(p)), f"p{a.id}", "cold_water", "meter",
                 Decimal(1), _rub(k), Decimal(1), _rub(k), "", run)
                for a in chunk for p, k in a.charges.items()
            ]  # fmt: skip
            await conn.copy_records_to_table(
                "accruals",
                records=lines,
                columns=("period", "premise_id", "service", "method", "volume", "tariff",
                         "coefficient", "amount", "explanation", "run_id"),
            )  # fmt: skip
            pays = [
                (p.id, _key(int(a.id)), date.fromordinal(p.day), _rub(p.amount),
                 None if p.period is None else date.fromordinal(first_day(p.period)),
                 p.to, "bench", 0)
                for a in chunk for p in a.payments
            ]  # fmt: skip
            await conn.copy_records_to_table(
                "payments",
                records=pays,
                columns=("id", "account", "day", "amount", "period", "target", "source", "line"),
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def _prepare(n: int, seed: int) -> str:
    from api.runtime import migrate_url

    admin = os.environ.get("UCHET_BENCH_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"uchet_bench_ledger_{n}_{seed}"
    url = os.environ.get("UCHET_BENCH_DB", admin.rpartition("/")[0] + "/" + name)
    conn = await asyncpg.connect(admin)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    await migrate_url(url)
    conn = await asyncpg.connect(url)
    try:
        filled = await conn.fetchval("SELECT count(*) FROM premises")
    finally:
        await conn.close()
    if filled != n:
        t0 = time.perf_counter()
        await _fill(url, n, seed)
        print(f"store filled with {n:,} accounts in {time.perf_counter() - t0:.1f} s")
    return url


def save_child(url: str) -> None:
    """The save in its own process: seconds and peak memory on stdout."""
    from ingest.ledger_month import save_month

    async def go() -> object:
        conn = await asyncpg.connect(url)
        try:
            return await save_month(conn, MONTH, last_day(MONTH))
        finally:
            await conn.close()

    saved = asyncio.run(go())
    # VmHWM: this process's own peak (ru_maxrss would carry the forking parent's over exec)
    status = Path("/proc/self/status").read_text()
    kib = next(int(x.split()[1]) for x in status.splitlines() if x.startswith("VmHWM:"))
    peak = kib / 1024 / 1024
    print(f"{saved.seconds:.1f} {peak:.2f} {saved.accounts} {saved.debtors}")  # type: ignore[attr-defined]


async def _views(url: str, live: bool, house: str) -> tuple[dict[str, float], list[object]]:
    from api.routes.ledger_data import (
        DebtorQuery,
        collection_view,
        debtors_all,
        debtors_view,
        debtors_xlsx,
    )

    conn = await asyncpg.connect(url)
    day = last_day(MONTH)
    cases = {
        "first page": DebtorQuery(MONTH, day, live=live),
        "a house": DebtorQuery(MONTH, day, house, live=live),
        "bucket 181+": DebtorQuery(MONTH, day, bucket="181+", live=live),
    }
    out = {}
    seen: list[object] = []  # what each view gave, less its source: saved and live agree
    debtors_xlsx([], "warm-up")  # openpyxl's import is not the export's time
    try:
        for name, q in cases.items():
            t0 = time.perf_counter()
            view = await debtors_view(conn, q, limit=50, page_size=50)
            out[name] = time.perf_counter() - t0
            seen.append({k: v for k, v in view.report.items() if k != "source"})
        t0 = time.perf_counter()
        found, _ = await debtors_all(conn, cases["a house"])
        debtors_xlsx(found, "bench")
        out["export of a house (xlsx)"] = time.perf_counter() - t0
        seen.append(found)
        t0 = time.perf_counter()
        got = await collection_view(conn, cases["first page"], 6)
        out["collection rate"] = time.perf_counter() - t0
        seen.append({k: v for k, v in got.items() if k != "source"})
    finally:
        await conn.close()
    return out, seen


def store_bench(n: int, seed: int, *, live: bool) -> None:
    url = asyncio.run(_prepare(n, seed))
    house = f"h{n // 200:05d}"
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--save-child", url], check=True, capture_output=True,
        text=True,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    seconds, peak, accounts, debtors = done.stdout.split()
    print(
        f"save 2026-06: {int(accounts):,} accounts ({int(debtors):,} debtors) in {seconds} s "
        f"(process {wall:.1f} s), peak memory {peak} GiB; load {os.getloadavg()[0]:.2f}"
    )
    saved, saw = asyncio.run(_views(url, False, house))
    now, live_saw = asyncio.run(_views(url, True, house)) if live else ({}, saw)
    assert saw == live_saw, "the saved month and the live views differ"
    for name, t in saved.items():
        line = f"  {name}: saved {t * 1000:,.0f} ms"
        if name in now:
            line += f", live {now[name]:,.2f} s, ratio {now[name] / t:,.1f}×"
        print(line)
    if live:
        print("  saved and live views agree to the kopeck")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
