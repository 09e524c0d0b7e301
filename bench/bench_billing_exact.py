"""Exactness at scale: N random extreme billing cases, core vs the reference, zero refusals
and zero mismatches expected.

    python bench/bench_billing_exact.py [--cases 10000] [--seed 1]

Cases come from ``cases(extreme=True)`` of tests/billing/random_cases.py (normatives with up
to 15 decimals, areas up to 100,000 m², average windows 1–12, registers of 1–12 digits with
rollovers inside a month, up to 10,000 residents, several time zones). A refusal is any
exception of the core on a case the reference bills; a mismatch is any line or house row that
differs. Prints the counts and how many runs needed Python integers (past int64).
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, Phase, given, seed, settings

from core.billing.case import bill_case, parse_case
from core.billing.engine import _Run
from tests.billing.random_cases import cases, house_rows
from tests.billing.reference import expected_output
from tests.billing.test_cases import _lines, _same


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    counts: Counter[str] = Counter()
    first: dict[str, str] = {}
    started = time.perf_counter()

    @seed(args.seed)
    @settings(
        max_examples=args.cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases(extreme=True))
    def one(case: dict[str, Any]) -> None:
        counts["cases"] += 1
        try:
            want, want_houses = expected_output(case)
        except Exception:  # the reference refuses it: not a valid case
            counts["invalid (reference refuses)"] += 1
            return
        try:
            inp = parse_case(case)[0]
            if _Run(inp).wide:
                counts["needed Python integers"] += 1
            out = bill_case(case, explain=True)
        except Exception as exc:  # counted and reported
            counts["refusals"] += 1
            first.setdefault("refusal", f"{exc!r}\n{traceback.format_exc(limit=-3)}")
            return
        diffs = _same(_lines(out["accruals"]), want)
        if diffs or house_rows(out) != want_houses:
            counts["mismatches"] += 1
            first.setdefault("mismatch", "\n".join(diffs[:5]))
        counts["lines compared"] += len(want)
        if counts["cases"] % 1000 == 0:
            print(f"  {counts['cases']:,} cases, {time.perf_counter() - started:.0f} s", flush=True)

    one()
    elapsed = time.perf_counter() - started
    print(f"{counts['cases']:,} random extreme cases in {elapsed:.0f} s (seed {args.seed})")
    for key in (
        "invalid (reference refuses)",
        "needed Python integers",
        "lines compared",
        "refusals",
        "mismatches",
    ):
        print(f"  {key}: {counts[key]:,}")
    for kind, text in first.items():
        print(f"first {kind}:\n{text}")
    sys.exit(1 if counts["refusals"] or counts["mismatches"] else 0)


if __name__ == "__main__":
    main()
