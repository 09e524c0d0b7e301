"""Billing speed: the vectorized core on N premises × 4 services vs the per-premise reference.

    python bench/bench_billing.py [--premises 1000000] [--sample 2000] [--seed 1] [--phases]

Synthetic data from a seed, one period, every method present (meter, average, normative,
recalculation from prior estimates, water_sum, СОИ by house meter and by normative).
The core's figure is wall time (median of 3); its CPU time is printed beside it, since on a
shared machine the two differ. ``--phases`` adds one more, untimed run that splits the CPU
time by step of the core.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.billing.engine import bill
from core.billing.model import (
    CW,
    EL,
    HW,
    SERVICES,
    SEWAGE,
    BillingInput,
    Fixed,
    Houses,
    Meters,
    Premises,
    PriorEstimates,
    Registers,
    month_index,
    month_name,
)
from tests.billing.reference import reference

PERIOD = month_index(2026, 3)
PER_HOUSE = 10


def synthetic(n: int, seed: int) -> BillingInput:
    rng = np.random.default_rng(seed)
    nh = max(1, n // PER_HOUSE)
    house = np.arange(n, dtype=np.int64) // PER_HOUSE % nh
    area = rng.integers(250, 1200, n).astype(np.int64)  # 25.0–120.0 m²
    ones = np.ones(n, dtype=np.bool_)
    premises = Premises(
        ids=[f"p{i}" for i in range(n)],
        house=house,
        area=Fixed(area, 1),
        residential=rng.random(n) < 0.95,
        residents=rng.integers(0, 5, n).astype(np.int64),
        owners=rng.integers(1, 3, n).astype(np.int64),
        meter_possible=rng.random(n) < 0.9,
        normatives={
            CW: Fixed(np.full(n, 6935), 3),
            HW: Fixed(np.full(n, 4745), 3),
            EL: Fixed(np.full(n, 46), 0),
        },
        normative_given={CW: ones, HW: ones, EL: ones},
    )
    houses = Houses(
        ids=[f"h{i}" for i in range(nh)],
        common_area=Fixed(rng.integers(500, 5000, nh).astype(np.int64), 0),
        common_area_given=np.ones(nh, dtype=np.bool_),
        distribute_excess=rng.random(nh) < 0.2,
    )
    # meters: cold, hot, electricity; a second cold riser for 5 %
    owner, service = [], []
    for s, share in ((CW, 0.7), (HW, 0.7), (EL, 0.85), (CW, 0.05)):
        sel = np.flatnonzero(rng.random(n) < share)
        owner.append(sel)
        service.append(np.full(sel.size, s, dtype=np.int64))
    m_owner = np.concatenate(owner)
    m_service = np.concatenate(service)
    nm = m_owner.size
    meters = Meters(
        [f"m{i}" for i in range(nm)],
        m_owner,
        m_service,
        np.full(nm, month_index(2020, 1), dtype=np.int64),
    )
    # reading patterns (months before P): read now / silent with average / silent, short /
    # reading after an estimate billed in an earlier run
    kind = rng.choice(4, nm, p=[0.8, 0.1, 0.05, 0.05])
    offsets = {0: (1, 0), 1: (5, 1), 2: (3,), 3: (2, 0)}
    r_meter, r_month = [], []
    for k, offs in offsets.items():
        sel = np.flatnonzero(kind == k)
        for off in offs:
            r_meter.append(sel)
            r_month.append(np.full(sel.size, PERIOD - off, dtype=np.int64))
    rm = np.concatenate(r_meter)
    rmo = np.concatenate(r_month)
    order = np.lexsort((rmo, rm))
    rm, rmo = rm[order], rmo[order]
    step = rng.integers(0, 9000, rm.size).astype(np.int64)  # up to 9 m³/kWh per month, 3 places
    first = np.ones(rm.size, dtype=np.bool_)
    first[1:] = rm[1:] != rm[:-1]
    value = np.cumsum(step)
    starts = np.flatnonzero(first)
    value = value - np.repeat(value[starts], np.diff(np.append(starts, rm.size)))
    value += 100_000 * (1 + (rm % 50))
    registers = Registers(rm, rmo, Fixed(value, 3), Fixed(value, 3))
    late = np.flatnonzero(kind == 3)
    prior = PriorEstimates(
        late,
        np.full(late.size, PERIOD - 1, dtype=np.int64),
        Fixed(rng.integers(1000, 9000, late.size).astype(np.int64), 3),
    )
    # house meters: electricity and cold water for 70 % of houses, read at both month ends
    sizes = []
    parts = []
    for s in (EL, CW):
        sel = np.flatnonzero(rng.random(nh) < 0.7)
        parts.append(sel)
        sizes.append(np.full(sel.size, s, dtype=np.int64))
    h_owner, h_service = np.concatenate(parts), np.concatenate(sizes)
    hm = h_owner.size
    house_meters = Meters(
        [f"hm{i}" for i in range(hm)],
        h_owner,
        h_service,
        np.full(hm, month_index(2020, 1), dtype=np.int64),
    )
    per = np.where(h_service == EL, 3_000_000, 40_000)  # kWh or m³ per house, 3 places
    hr_meter = np.repeat(np.arange(hm, dtype=np.int64), 2)
    hr_month = np.tile(np.array([PERIOD - 1, PERIOD], dtype=np.int64), hm)
    hr_value = np.repeat(rng.integers(10**6, 10**7, hm), 2) * 1000
    hr_value[1::2] += (per * rng.uniform(0.8, 1.3, hm)).astype(np.int64)
    house_regs = Registers(hr_meter, hr_month, Fixed(hr_value, 3), Fixed(hr_value, 3))
    return BillingInput(
        first_period=PERIOD,
        last_period=PERIOD,
        tariffs={
            CW: Decimal("50.93"),
            HW: Decimal("210.40"),
            SEWAGE: Decimal("40.05"),
            EL: Decimal("5.67"),
        },
        soi_normatives={EL: Decimal("1.2"), CW: Decimal("0.03")},
        premises=premises,
        houses=houses,
        meters=meters,
        registers=registers,
        house_meters=house_meters,
        house_registers=house_regs,
        prior_estimates=prior,
    )


def as_case(inp: BillingInput, n: int) -> dict[str, object]:
    """The first n premises (whole houses) as a JSON case for the reference biller."""
    p, mt, regs = inp.premises, inp.meters, inp.registers
    nh = (n + PER_HOUSE - 1) // PER_HOUSE

    def fixed(f: Fixed, i: int) -> str:
        return format(Decimal(int(f.units[i])).scaleb(-f.scale), "f")

    def readings(r: Registers, m: int) -> list[list[str]]:
        idx = np.flatnonzero(r.meter == m)
        return [[f"{month_name(int(r.month[i]))}-15", fixed(r.value, int(i))] for i in idx]

    premises = []
    for i in range(n):
        ms = np.flatnonzero(mt.owner == i)
        premises.append(
            {
                "id": p.ids[i],
                "house": inp.houses.ids[int(p.house[i])],
                "area": fixed(p.area, i),
                "residential": bool(p.residential[i]),
                "residents": int(p.residents[i]),
                "owners": int(p.owners[i]),
                "meter_possible": bool(p.meter_possible[i]),
                "meters": [
                    {
                        "id": mt.ids[m],
                        "service": SERVICES[int(mt.service[m])],
                        "installed": "2020-01-01",
                        "readings": readings(regs, int(m)),
                    }
                    for m in ms
                ],
            }
        )
    houses = []
    for h in range(nh):
        hms = np.flatnonzero(inp.house_meters.owner == h)
        houses.append(
            {
                "id": inp.houses.ids[h],
                "common_area": fixed(inp.houses.common_area, h),
                "soi_excess": "distribute" if inp.houses.distribute_excess[h] else "operator",
                "meters": [
                    {
                        "id": inp.house_meters.ids[m],
                        "service": SERVICES[int(inp.house_meters.service[m])],
                        "readings": readings(inp.house_registers, int(m)),
                    }
                    for m in hms
                ],
            }
        )
    return {
        "period": month_name(PERIOD),
        "tariffs": {SERVICES[s]: str(t) for s, t in inp.tariffs.items()},
        "normatives": {"cold_water": "6.935", "hot_water": "4.745", "electricity": "46"},
        "soi_normatives": {SERVICES[s]: str(v) for s, v in inp.soi_normatives.items()},
        "houses": houses,
        "premises": premises,
    }


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


#: steps of the core timed by --phases, none inside another: (module, object, attribute, label)
PHASES = (
    ("core.billing.engine", "_Run", "__init__", "setup: groups, register slices, units"),
    ("core.billing.engine", "_Run", "meters", "rules 2-3 per meter: lookups, volumes"),
    ("core.billing.engine", None, "_detail", "meter details (for explanations)"),
    ("core.billing.engine", "_Run", "meter_lines", "meter lines summed per premise"),
    ("core.billing.engine", "_Run", "normative", "rule 4: normative without a meter"),
    ("core.billing.engine", "_Run", "sewage", "rule 5: sewage = cold + hot water"),
    ("core.billing.engine", "_Run", "soi", "СОИ per house and premise"),
    ("core.billing.lines", "Lines", "accruals", "line columns, volumes and amounts"),
)


def phases(inp: BillingInput) -> None:
    """One more run of the core with the CPU time of each step of PHASES."""
    spent: dict[str, float] = {}
    patched: list[tuple[object, str, Callable[..., object]]] = []

    def timed(f: Callable[..., object], label: str) -> Callable[..., object]:
        @functools.wraps(f)
        def run(*args: object, **kwargs: object) -> object:
            t0 = _cpu()
            try:
                return f(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + _cpu() - t0

        return run

    for module, obj, attr, label in PHASES:
        owner = sys.modules.get(module)
        target = getattr(owner, obj, None) if obj else owner
        f = getattr(target, attr, None)
        if target is None or f is None:
            continue
        patched.append((target, attr, f))
        setattr(target, attr, timed(f, label))
    try:
        t0 = _cpu()
        bill(inp)
        total = _cpu() - t0
    finally:
        for target, attr, f in patched:
            setattr(target, attr, f)
    print(f"CPU time by step ({total:.3f} s in all):")
    for label, seconds in spent.items():
        print(f"  {label:38s} {seconds:6.3f} s  {100 * seconds / total:4.1f} %")
    rest = total - sum(spent.values())
    print(f"  {'the rest (heating, result)':38s} {rest:6.3f} s  {100 * rest / total:4.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--premises", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--phases", action="store_true", help="CPU time by step of the core")
    args = parser.parse_args()
    t0 = time.perf_counter()
    inp = synthetic(args.premises, args.seed)
    print(
        f"synthetic input: {args.premises:,} premises, {len(inp.meters.ids):,} meters, "
        f"{inp.registers.meter.size:,} registers ({time.perf_counter() - t0:.1f} s)"
    )
    times, cpu = [], []
    result = None
    for _ in range(3):
        del result  # one result alive at a time, as in a real run
        t0, c0 = time.perf_counter(), _cpu()
        result = bill(inp)
        times.append(time.perf_counter() - t0)
        cpu.append(_cpu() - c0)
    core = sorted(times)[1]
    a = result.accruals
    methods = np.bincount(a.method, minlength=9)
    print(
        f"vectorized core: {core:.3f} s (median of 3; CPU {sorted(cpu)[1]:.3f} s, load "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores) for {a.period.size:,} lines; "
        f"lines by method: {methods.tolist()}"
    )
    if args.phases:
        phases(inp)
    sample = min(args.sample, args.premises)
    case = as_case(synthetic(sample, args.seed), sample)
    t0 = time.perf_counter()
    lines, _ = reference(case)
    ref = time.perf_counter() - t0
    scaled = ref * args.premises / sample
    print(
        f"reference loop: {ref:.3f} s for {sample:,} premises ({len(lines):,} lines), "
        f"scaled to {args.premises:,}: {scaled:.1f} s"
    )
    print(
        f"speed-up: {scaled / core:.0f}x (target >= 100x); core target < 0.5 s: "
        f"{'met' if core < 0.5 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
