"""Benchmark: the whole batch VEE pass over 10,000 meters × 30 days hourly (7.2 M values).

Target: < 5 s on a 2-core machine. Baseline, measured in the same run: the same checks as a
per-meter pure-Python loop over a sample of meters, scaled to the fleet.

    .venv/bin/python bench/bench_vee.py [--houses 257] [--sample 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from core.vee import AnomalyType, VeeSettings, run_batch
from core.vee.spikes import reference_days
from simulators.history import simulate_history


def python_loop(
    register: np.ndarray, digits: np.ndarray, rows: list[int], s: VeeSettings
) -> dict[str, set[tuple[int, int]]]:
    """The per-meter checks in plain Python: missing, drops, daily use, spikes, stuck."""
    n_days = (register.shape[1] - 1) // 24
    ref = reference_days(n_days, s.spike_window_days).tolist()
    found: dict[str, set[tuple[int, int]]] = {
        "missing": set(),
        "rollback": set(),
        "replacement": set(),
        "spike": set(),
        "stuck": set(),
    }
    for m in rows:
        values = register[m].tolist()
        cap = 10.0 ** int(digits[m])
        missing = sum(1 for v in values if math.isnan(v))
        if missing >= s.missing_min_hours:
            found["missing"].add((m, 0))
        # Corrected cumulative use at each reading.
        points: list[tuple[int, float]] = []
        offset = 0.0
        last: tuple[int, float] | None = None
        unknown: list[tuple[int, int]] = []
        for t, v in enumerate(values):
            if math.isnan(v):
                continue
            if last is not None and v < last[1]:
                prev = last[1]
                if prev >= cap * (1 - s.rollover_margin) and v <= cap * s.rollover_margin:
                    offset += cap
                else:
                    later = [
                        x
                        for x in values[t + 1 : t + 1 + s.replacement_confirm_hours]
                        if not math.isnan(x)
                    ]
                    if (
                        v <= s.replacement_max_share * prev
                        and later
                        and min(later) >= v
                        and max(later) < v + (prev - v) / 2
                    ):
                        offset += prev
                        found["replacement"].add((m, t))
                    else:
                        offset += prev - v
                        unknown.append((last[0], t))
                        found["rollback"].add((m, t))
            points.append((t, v + offset))
            last = (t, v)
        hourly = [math.nan] * (len(values) - 1)
        for (t0, c0), (t1, c1) in itertools.pairwise(points):
            rate = (c1 - c0) / (t1 - t0)
            for h in range(t0, t1):
                hourly[h] = rate
        for a, b in unknown:
            for h in range(a, b):
                hourly[h] = math.nan
        daily = [sum(hourly[24 * d : 24 * d + 24]) for d in range(n_days)]
        run = 0
        for d, x in enumerate([*daily, math.nan]):
            if not math.isnan(x) and x <= s.stuck_epsilon:
                run += 1
                continue
            if run >= s.stuck_days:
                found["stuck"].add((m, d - run))
            run = 0
        for d, x in enumerate(daily):
            window = [daily[i] for i in ref[d] if not math.isnan(daily[i])]
            if math.isnan(x) or len(window) < s.spike_min_days:
                continue
            med = statistics.median(window)
            mad = statistics.median([abs(w - med) for w in window])
            if med > 0 and x > max(med + s.spike_k * mad, s.spike_min_ratio * med):
                found["spike"].add((m, d))
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--houses", type=int, default=257)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--sample", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    t0 = time.perf_counter()
    history = simulate_history(
        seed=args.seed, houses=args.houses, premises=(12, 12), days=args.days
    )
    fleet = history.fleet
    print(
        f"fleet: {fleet.n_meters} meters in {args.houses} houses, {fleet.n_hours} hours, "
        f"{fleet.register.size / 1e6:.2f} M register values "
        f"(simulated in {time.perf_counter() - t0:.1f} s)"
    )
    settings = VeeSettings()
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = run_batch(fleet, settings=settings)
        times.append(time.perf_counter() - t0)
    vec = statistics.median(times)
    print(
        f"vectorised batch pass, whole fleet: median {vec:.2f} s of {args.repeat} "
        f"(runs {', '.join(f'{t:.2f}' for t in times)}), {len(result.anomalies)} anomalies; "
        f"target < 5 s: {'met' if vec < 5 else 'MISSED'}"
    )

    rng = np.random.default_rng(0)
    rows = sorted(
        rng.choice(fleet.n_meters, size=min(args.sample, fleet.n_meters), replace=False).tolist()
    )
    t0 = time.perf_counter()
    loop = python_loop(fleet.register, fleet.digits, rows, settings)
    t_loop = time.perf_counter() - t0
    scaled = t_loop * fleet.n_meters / len(rows)
    print(
        f"per-meter Python loop: {t_loop:.2f} s for {len(rows)} meters -> {scaled:.1f} s scaled to "
        f"{fleet.n_meters} meters (without the house balance)"
    )
    print(f"speed-up: {scaled / vec:.0f}x")

    # The two must agree on the sample, or the comparison means nothing.
    sample = set(rows)
    day = lambda a: int((a.start - fleet.start).total_seconds() // 86400)
    vec_found = {
        "spike": {
            (a.meter_index, day(a))
            for a in result.anomalies
            if a.type is AnomalyType.SPIKE
            and a.meter_index in sample
            and not fleet.is_house_meter[a.meter_index]
        },
        "stuck": {
            (a.meter_index, day(a))
            for a in result.anomalies
            if a.type is AnomalyType.STUCK and a.meter_index in sample
        },
        "rollback": {
            (a.meter_index, int((a.end - fleet.start).total_seconds() // 3600))
            for a in result.anomalies
            if a.type is AnomalyType.ROLLBACK and a.meter_index in sample
        },
    }
    loop["spike"] = {k for k in loop["spike"] if not fleet.is_house_meter[k[0]]}
    for key, got in vec_found.items():
        print(
            f"  sample agreement {key}: vectorised {len(got)}, loop {len(loop[key])}, "
            f"{'same' if got == loop[key] else 'DIFFERENT'}"
        )


if __name__ == "__main__":
    main()
