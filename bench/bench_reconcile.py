"""Reconciliation of a simulated town's property register with its accounts: precision and
recall of the findings and of the address matches against the simulator's ground truth, and
the time of the pure reconciliation (matching + report) for large inputs.

    python bench/bench_reconcile.py                       # 200 houses × 40 flats
    python bench/bench_reconcile.py --houses 25000 --flats 40   # 1M rows × ~1M accounts
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.reconcile import reconcile
from core.reconcile.match import MATCHED, match_register
from simulators.property_register import TownSpec, make_town


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--houses", type=int, default=200)
    ap.add_argument("--flats", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--typo-rate", type=float, default=0.3)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
