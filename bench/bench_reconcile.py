"""Reconciliation of a simulated town's property register with its accounts: precision and
recall of the findings and of the address matches against the simulator's ground truth, and
the time of the pure reconciliation (matching + report) for large inputs.

    python bench/bench_reconcile.py                       # 200 houses × 40 flats
    python bench/bench_reconcile.py --houses 25000 --flats 40   # 1M rows × ~1M accounts
    python bench/bench_reconcile.py --houses 25000 --store      # + through PostgreSQL

``--store`` also puts the town into a fresh database (UCHET_TEST_DATABASE_URL's server: the
accounts through ``load_reference``, the register through ``save_import``) and times the
report as ``uchet reconcile report`` builds it: loading everything from the store, then
reconciling.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.reconcile import reconcile
from core.reconcile.match import MATCHED, match_register
from simulators.property_register import Town, TownSpec, make_town


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--houses", type=int, default=200)
    ap.add_argument("--flats", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--typo-rate", type=float, default=0.3)
    ap.add_argument("--store", action="store_true", help="also time the report over PostgreSQL")
    args = ap.parse_args()
    t0 = time.perf_counter()
    town = make_town(
        TownSpec(houses=args.houses, flats=args.flats, seed=args.seed, typo_rate=args.typo_rate)
    )
    t1 = time.perf_counter()
    print(
        f"town: {len(town.rows):,} register rows, {len(town.premises):,} accounts,"
        f" {len(town.truth):,} known differences (made in {t1 - t0:.1f} s)"
    )
    gc.collect()
    gc.freeze()  # the town lives for the whole run: keep the collector off it
    t2 = time.perf_counter()
    report = reconcile(town.rows, town.premises, town.rates)
    t3 = time.perf_counter()
    found = set()
    for f in report.findings:
        if f.kind == "unbilled":
            found.add(("unbilled", f.where.rsplit(" ", 1)[1]))
        elif f.premise_id is not None:
            found.add((f.kind, f.premise_id))
        else:
            found.add((f.kind, f.where))
    hit = len(found & town.truth)
    print(
        f"findings: {len(found):,}; precision {_ratio(hit, len(found)):.4f},"
        f" recall {_ratio(hit, len(town.truth)):.4f}"
    )
    by_kind = {}
    for kind, _ in town.truth:
        by_kind.setdefault(kind, [0, 0])[1] += 1
    for kind, _key in found & town.truth:
        by_kind[kind][0] += 1
    print("  recall by kind: " + ", ".join(f"{k} {h}/{n}" for k, (h, n) in sorted(by_kind.items())))
    print(f"  by kind found: {report.counts}")
    t4 = time.perf_counter()
    matches = match_register(town.rows, town.premises)
    t5 = time.perf_counter()
    right = wrong = 0
    for m in matches:
        if m.status == MATCHED and m.premise >= 0:
            if town.premises[m.premise].premise_id == town.row_premise.get(town.rows[m.row].line):
                right += 1
            else:
                wrong += 1
    expected = len(town.row_premise)
    print(
        f"address matches: precision {_ratio(right, right + wrong):.4f}, recall"
        f" {_ratio(right, expected):.4f} ({right:,} right, {wrong:,} wrong of {expected:,})"
    )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"time: reconcile (match + report) {t3 - t2:.2f} s; match alone {t5 - t4:.2f} s;"
        f" peak RSS {rss:,.0f} MiB"
    )
    if args.store:
        asyncio.run(_through_store(town, len(report.findings)))
    return 0


async def _through_store(town: Town, findings: int) -> None:
    """The town in a fresh database, then the report as the CLI builds it."""
    from datetime import date
    from decimal import Decimal

    import asyncpg

    from adapters.billing.reference import House, Premise, Rate, ReferenceData
    from adapters.store.billing_load import load_reference
    from adapters.store.property import save_import
    from api.runtime import migrate_url
    from core.reconcile.report import ReconcileOptions
    from ingest.property_import import build_report
    from tests.services import create_database, drop_database

    url = await create_database()
    try:
        await migrate_url(url)
        conn = await asyncpg.connect(url)
        try:
            t0 = time.perf_counter()
            seen: dict[str, str] = {}
            for p in town.premises:
                seen.setdefault(p.house_id, p.house_address)
            rates = next(iter(town.rates.values()))
            valid = date(2025, 1, 1)
            data = ReferenceData(
                houses=[House(h, a, rates.common_area, "operator") for h, a in seen.items()],
                premises=[
                    Premise(
                        p.premise_id,
                        p.house_id,
                        p.account,
                        p.area,
                        p.residential,
                        p.residents,
                        p.owners,
                        True,
                        {},
                    )
                    for p in town.premises
                ],
                rates=[
                    Rate(table, service, valid, Decimal(value))
                    for table, values in (
                        ("tariffs", rates.tariffs),
                        ("normatives", rates.normatives),
                        ("soi_normatives", rates.soi_normatives),
                    )
                    for service, value in values.items()
                ],
            )
            await load_reference(conn, data)
            await save_import(
                conn, file="register.csv", mapping="municipal_premises", rows=town.rows,
                problems=[],
            )  # fmt: skip
            t1 = time.perf_counter()
            built = await build_report(conn, options=ReconcileOptions(), on=date(2026, 3, 1))
            t2 = time.perf_counter()
        finally:
            await conn.close()
    finally:
        await drop_database(url)
    same = "the same" if len(built.report.findings) == findings else "OTHER"
    print(
        f"store: town written in {t1 - t0:.1f} s; report over the store {t2 - t1:.2f} s (load"
        f" {built.times['load']:.2f} s, reconcile {built.times['reconcile']:.2f} s);"
        f" {len(built.report.findings):,} findings ({same} as in memory)"
    )


if __name__ == "__main__":
    sys.exit(main())
