"""The billing error of every premise, service and month — charged minus true consumption ×
tariff, in kopecks — split by cause so that the causes sum to the error exactly.

"True" is the premise's own consumption plus its area share of the house's legitimate common
use (what a perfect СОИ line would charge). The causes:

- ``meter_readings``: lines billed from readings (stuck meters, the reading day not being the
  month end, residents' whole units);
- ``averages``: months billed by average (п.59) and their recalculations (п.61);
- ``normatives``: premises without a meter or without history (п.60, formula 4), with the
  people who live there but are not registered;
- ``leaks``, ``unregistered``: the share of house network leaks and of unregistered consumers
  on the house input that reached the premise through the СОИ distribution;
- ``soi_distribution``: the rest of the СОИ lines' error (other premises' misbilled volumes in
  the house balance, the normative cap, formula 15 without house meter data).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import numpy as np

from simulators.city.consumption import Truth, monthly
from simulators.city.reference import TARIFFS
from simulators.city.town import CW, EL, HW, Town

CAUSES = ("meter_readings", "averages", "normatives", "soi_distribution", "leaks", "unregistered")
SERVICE_INDEX = {"cold_water": CW, "hot_water": HW, "electricity": EL}
INDIVIDUAL = {"meter", "recalculation", "average", "normative", "water_sum",
              "house_meter_area", "normative_area"}  # fmt: skip
SOI = {"soi_house_meter", "soi_normative"}


def kopecks(volume: float, tariff: Decimal) -> int:
    """volume × tariff in kopecks, half-up, through Decimal (the volume taken to 6 places)."""
    amount = Decimal(f"{volume:.6f}") * tariff
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class ErrorRow:
    period: str
    premise: str
    house: str
    service: str
    charged: int  # kopecks
    true: int
    methods: list[str]
    causes: dict[str, int] = field(default_factory=dict)

    @property
    def error(self) -> int:
        return self.charged - self.true


def _cause_of(methods: set[str]) -> str:
    if "normative" in methods:
        return "normatives"
    if methods & {"average", "recalculation"}:
        return "averages"
    return "meter_readings"


def attribute(
    town: Town,
    truth: Truth,
    months: list[int],
    accruals: list[dict[str, Any]],
    balances: list[dict[str, Any]],
) -> list[ErrorRow]:
    """One row per premise, service (billed or consumed) and month, causes filled in."""
    names = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in months]
    col = {n: i for i, n in enumerate(names)}
    own = monthly(truth.own, truth.first_day, months)  # (P, 3, M)
    common = monthly(truth.common, truth.first_day, months)  # (H, 3, M)
    leak = monthly(truth.network_leak, truth.first_day, months)
    theft = monthly(truth.theft, truth.first_day, months)
    h_n = len(town.house_ids)
    area = town.area_dm2.astype(np.float64)
    share = area / np.bincount(town.house, weights=area, minlength=h_n)[town.house]
    lines: dict[tuple[str, str, str], dict[str, int]] = defaultdict(dict)
    for a in accruals:
        key = (_name(a["period"]), a["premise_id"], a["service"])
        lines[key][a["method"]] = lines[key].get(a["method"], 0) + int(a["amount"] * 100)
    fraction: dict[tuple[str, str, str], float] = {}
    for b in balances:
        excess, dist = b["excess_volume"], b["distributed_volume"]
        f = float(dist / excess) if excess is not None and excess > 0 else 0.0
        fraction[(_name(b["period"]), b["house_id"], b["service"])] = min(1.0, f)
    rows: list[ErrorRow] = []
    for name in names:
        m = col[name]
        for p, pid in enumerate(town.premise_ids):
            h = int(town.house[p])
            hid = town.house_ids[h]
            water: set[str] = set()
            for service in ("cold_water", "hot_water", "sewage", "electricity"):
                got = lines.get((name, pid, service), {})
                if service == "sewage":
                    true_own = float(own[p, CW, m] + own[p, HW, m])
                else:
                    true_own = float(own[p, SERVICE_INDEX[service], m])
                tariff = TARIFFS[service]
                ind = sum(v for k, v in got.items() if k in INDIVIDUAL)
                soi = sum(v for k, v in got.items() if k in SOI)
                causes = dict.fromkeys(CAUSES, 0)
                true_k = kopecks(true_own, tariff)
                methods = set(got)
                if service == "sewage":  # cold + hot water volumes: their causes carry over
                    cause = next(
                        (c for c in ("normatives", "averages") if c in water), "meter_readings"
                    )
                else:
                    cause = _cause_of(methods)
                    if service != "electricity":
                        water.add(cause)
                causes[cause] += ind - true_k
                if service != "sewage":
                    s = SERVICE_INDEX[service]
                    fair = float(common[h, s, m] * share[p])
                    fair_k = kopecks(fair, tariff)
                    true_k += fair_k
                    f = fraction.get((name, hid, service), 0.0) if soi else 0.0
                    leak_k = kopecks(float(leak[h, s, m] * share[p] * f), tariff)
                    theft_k = kopecks(float(theft[h, s, m] * share[p] * f), tariff)
                    causes["leaks"] += leak_k
                    causes["unregistered"] += theft_k
                    causes["soi_distribution"] += soi - fair_k - leak_k - theft_k
                charged = ind + soi
                if not charged and not true_k:
                    continue
                rows.append(
                    ErrorRow(name, pid, hid, service, charged, true_k, sorted(methods), causes)
                )
    assert all(sum(r.causes.values()) == r.error for r in rows)
    return rows


def _name(period: date | str) -> str:
    return period if isinstance(period, str) else f"{period:%Y-%m}"


def summarize(rows: list[ErrorRow]) -> dict[str, Any]:
    """Totals by month, service and cause; premise-month distribution; the worst cases."""
    by_month: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    by_service: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    per_pm: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        for target in (by_month[r.period], by_service[r.service]):
            target["charged"] += r.charged
            target["true"] += r.true
            target["error"] += r.error
            for c, v in r.causes.items():
                target[c] += v
        per_pm[(r.period, r.premise)] += r.error
    errors = np.array(sorted(per_pm.values()), dtype=np.int64)
    worst = sorted(per_pm.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:10]
    total = {k: sum(v[k] for v in by_month.values()) for k in ("charged", "true", "error", *CAUSES)}
    return {
        "total": {k: rub(v) for k, v in total.items()},
        "by_month": {m: {k: rub(v) for k, v in d.items()} for m, d in sorted(by_month.items())},
        "by_service": {s: {k: rub(v) for k, v in d.items()} for s, d in sorted(by_service.items())},
        "premise_months": {
            "count": int(errors.size),
            "over_100_rub": int((np.abs(errors) > 10_000).sum()),
            "overcharged": int((errors > 0).sum()),
            "undercharged": int((errors < 0).sum()),
            "median_abs": rub(int(np.median(np.abs(errors)))) if errors.size else "0.00",
        },
        "worst": [{"period": p, "premise": q, "error": rub(v)} for (p, q), v in worst],
    }


def rub(kop: int) -> str:
    """Kopecks as roubles text, exact: -12345 -> '-123.45'."""
    sign = "-" if kop < 0 else ""
    return f"{sign}{abs(kop) // 100}.{abs(kop) % 100:02d}"
