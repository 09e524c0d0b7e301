"""Explanation speed: `explanations` on N premises of bench_billing's synthetic city vs the
implementation before issue 3, the baseline measured in the same run.

    python bench/bench_explain.py [--premises 1000000] [--sample 5000] [--seed 1] [--check]

The baseline runs on ``--sample`` premises only (it takes ~100 µs a line and its СОИ lines
scan every premise, so its cost per line only grows with N: the ratio is a lower bound).
The texts are compared byte for byte on the sample, and on all N with ``--check`` (slow).
Figures are wall time (median of 3) with the CPU time beside it: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_billing import synthetic

from core.billing.engine import bill
from core.billing.explain import explanations
from core.billing.model import BillingResult
from tests.billing.test_explain_reference import reference_explanations


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _timed(
    f: Callable[[BillingResult], list[str]], result: BillingResult, runs: int
) -> tuple[float, float, list[str]]:
    """Median wall and CPU seconds over ``runs`` calls, and the texts."""
    walls, cpus = [], []
    texts: list[str] = []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), _cpu()
        texts = f(result)
        walls.append(time.perf_counter() - t0)
        cpus.append(_cpu() - c0)
    return sorted(walls)[runs // 2], sorted(cpus)[runs // 2], texts


def _same(got: list[str], want: list[str]) -> str:
    diffs = sum(g != w for g, w in zip(got, want, strict=True))
    return "identical" if diffs == 0 and len(got) == len(want) else f"{diffs} lines DIFFER"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--premises", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--check", action="store_true", help="compare with the baseline at N")
    args = parser.parse_args()
    print(f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")

    sample = bill(synthetic(min(args.sample, args.premises), args.seed))
    n_sample = sample.accruals.period.size
    old_wall, old_cpu, old_texts = _timed(reference_explanations, sample, 1)
    new_wall, new_cpu, new_texts = _timed(explanations, sample, 3)
    print(
        f"sample {args.sample:,} premises, {n_sample:,} lines: baseline "
        f"{old_wall * 1e6 / n_sample:.1f} µs/line (CPU {old_cpu * 1e6 / n_sample:.1f}), new "
        f"{new_wall * 1e6 / n_sample:.2f} µs/line (CPU {new_cpu * 1e6 / n_sample:.2f}); "
        f"{old_wall / new_wall:.0f}x; texts {_same(new_texts, old_texts)}"
    )

    result = bill(synthetic(args.premises, args.seed))
    n = result.accruals.period.size
    wall, cpu, texts = _timed(explanations, result, 3)
    per_line = wall * 1e6 / n
    print(
        f"N {args.premises:,} premises, {n:,} lines: {wall:.2f} s (median of 3; CPU "
        f"{cpu:.2f} s) = {per_line:.2f} µs/line (CPU {cpu * 1e6 / n:.2f}); "
        f"vs baseline per line at the sample: {old_wall * 1e6 / n_sample / per_line:.0f}x; "
        f"target <= 5 µs/line: {'met' if per_line <= 5 else 'NOT met'}"
    )
    if args.check:
        t0 = time.perf_counter()
        want = reference_explanations(result)
        old_n = time.perf_counter() - t0
        print(
            f"baseline at N: {old_n:.1f} s = {old_n * 1e6 / n:.1f} µs/line, "
            f"{old_n / wall:.0f}x the new; texts {_same(texts, want)}"
        )


if __name__ == "__main__":
    main()
