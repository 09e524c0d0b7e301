"""House balance: ОДПУ consumption against the sum of the premises of the same house and service.

The imbalance ratio of a day is (ОДПУ − Σ premises) / ОДПУ. The premises' side uses each
meter's daily consumption where it is known and trustworthy, and otherwise an estimate: the
meter's median daily consumption over its good days (days flagged by the caller, such as a
stuck run or a rollback, count as not good). Premises without a meter can be added as a
per-day normative volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.vee.arrays import F64, I64, B, true_runs
from core.vee.stuck import group_daily


@dataclass(frozen=True, slots=True)
class BalanceTable:
    """Per (house, service) group that has an ОДПУ: the daily and period balance.

    house, service: (G,) of the groups listed (only groups with a house meter).
    house_daily, premises_daily: (G, D) volumes; ``house_daily`` NaN on unknown days.
    ratio: (G, D) daily imbalance ratio, NaN where the house volume is unknown or ≤ 0.
    period_ratio: (G,) over the days with a known house volume.
    estimated_meter_days: (G,) premise meter-days filled by estimate.
    premises: (G,) premise meters in the group.
    covered: (G,) of those, the ones with at least one trusted daily value. A group whose
    premises are not all covered has no ratio (NaN): comparing the house meter with a partial
    sum would show an imbalance that is not there.
    """

    house: I64
    service: I64
    house_daily: F64
    premises_daily: F64
    ratio: F64
    period_ratio: F64
    estimated_meter_days: I64
    premises: I64
    covered: I64


@dataclass(frozen=True, slots=True)
class Imbalances:
    """Persistent imbalance runs: parallel arrays over rows of a :class:`BalanceTable`."""

    row: I64
    first: I64  # first day of the run
    end: I64  # one past its last day
    negative: B  # Σ premises above the ОДПУ


def house_balance(
    daily: F64,
    good: B,
    house: I64,
    service: I64,
    is_house_meter: B,
    *,
    n_services: int,
    unmetered_daily: F64 | None = None,
) -> BalanceTable:
    """The balance table. ``good`` (M, D) marks days whose measured consumption is trusted.

    ``unmetered_daily`` (n_houses, n_services): daily volume of premises without a meter
    (by normative), added to the premises' side.
    """
    m = daily.shape[0]
    group = np.where(house >= 0, house * n_services + service, -1)
    n_groups = int(group.max()) + 1 if m else 0
    ind = (~is_house_meter) & (group >= 0)
    odpu = is_house_meter & (group >= 0)
    ok = good & np.isfinite(daily)
    clean = np.where(ok, daily, np.nan)
    estimate = np.nanmedian(
        np.where(np.asarray(ok.any(axis=1), dtype=bool)[:, None], clean, 0.0), axis=1
    )
    filled = np.where(ok, daily, estimate[:, None])
    premises_sum = group_daily(filled, np.where(ind, group, -1), n_groups)
    house_sum = group_daily(np.where(ok, daily, 0.0), np.where(odpu, group, -1), n_groups)
    # A day is known for the house when every ОДПУ of the group has a good value that day.
    missing_odpu = group_daily((~ok).astype(np.float64), np.where(odpu, group, -1), n_groups)
    rows = np.unique(group[odpu])
    hs = np.where(missing_odpu[rows] > 0, np.nan, house_sum[rows])
    ps = premises_sum[rows]
    if unmetered_daily is not None:
        ps = ps + unmetered_daily.reshape(-1)[rows][:, None]
    premises = np.bincount(group[ind], minlength=n_groups).astype(np.int64)
    has_data = ind & ok.any(axis=1)
    covered = np.bincount(group[has_data], minlength=n_groups).astype(np.int64)
    complete = covered[rows] == premises[rows]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(complete[:, None] & (hs > 0), (hs - ps) / hs, np.nan)
        known = np.isfinite(hs)
        h_total = np.where(known, hs, 0.0).sum(axis=1)
        p_total = np.where(known, ps, 0.0).sum(axis=1)
        period = np.where(complete & (h_total > 0), (h_total - p_total) / h_total, np.nan)
    est_days = np.bincount(group[ind], weights=(~ok[ind]).sum(axis=1), minlength=n_groups).astype(
        np.int64
    )
    return BalanceTable(
        house=(rows // n_services).astype(np.int64),
        service=(rows % n_services).astype(np.int64),
        house_daily=hs,
        premises_daily=ps,
        ratio=ratio,
        period_ratio=period,
        estimated_meter_days=est_days[rows],
        premises=premises[rows],
        covered=covered[rows],
    )


def persistent_imbalances(
    table: BalanceTable,
    *,
    balance_threshold: float = 0.15,
    balance_persistent_days: int = 7,
) -> Imbalances:
    """Runs of ≥ ``balance_persistent_days`` consecutive days with |ratio| above the threshold
    (one sign per run); an unknown day ends a run."""
    with np.errstate(invalid="ignore"):
        over = table.ratio > balance_threshold
        under = table.ratio < -balance_threshold
    parts = []
    for mask, negative in ((over, False), (under, True)):
        r, s, e = true_runs(mask)
        long = (e - s) >= balance_persistent_days
        parts.append((r[long], s[long], e[long], np.full(int(long.sum()), negative)))
    row = np.concatenate([p[0] for p in parts])
    order = np.lexsort((np.concatenate([p[1] for p in parts]), row))
    return Imbalances(
        row=row[order],
        first=np.concatenate([p[1] for p in parts])[order],
        end=np.concatenate([p[2] for p in parts])[order],
        negative=np.concatenate([p[3] for p in parts])[order],
    )
