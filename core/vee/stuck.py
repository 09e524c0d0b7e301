"""Stuck meters: zero consumption for at least N days while the house consumes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.vee.arrays import F64, I64, true_runs


@dataclass(frozen=True, slots=True)
class StuckRuns:
    """Runs of zero-consumption days: parallel arrays, days ``[first, end)``."""

    meter: I64
    first: I64
    end: I64
    house_volume: F64  # what the rest of the house and service consumed over the run


def group_index(house: I64, service: I64, n_services: int) -> I64:
    """One index per (house, service) pair; −1 for meters without a house."""
    out: I64 = np.where(house >= 0, house * n_services + service, -1)
    return out


def group_daily(daily: F64, group: I64, n_groups: int) -> F64:
    """(G, D) sum of known daily consumption of the meters in each group."""
    d = daily.shape[1]
    inside = group >= 0
    values = np.nan_to_num(daily[inside], nan=0.0)
    flat = (group[inside][:, None] * d + np.arange(d)[None, :]).ravel()
    sums = np.bincount(flat, weights=values.ravel(), minlength=n_groups * d)
    return np.asarray(sums, dtype=np.float64).reshape(n_groups, d)


def find_stuck(
    daily: F64,
    group: I64,
    *,
    stuck_days: int = 30,
    stuck_epsilon: float = 0.0,
    n_groups: int | None = None,
) -> StuckRuns:
    """Runs of ≥ ``stuck_days`` days with consumption ≤ ``stuck_epsilon`` on a meter while the
    other meters of its house and service consumed (> 0) over the same days.

    Occupancy is not known here, so "the house consumes" stands in for "the premise is
    occupied"; a meter without a house (group −1) is reported on zero consumption alone.
    Unknown days (NaN) end a run.
    """
    with np.errstate(invalid="ignore"):
        zero = np.isfinite(daily) & (daily <= stuck_epsilon)
    r, s, e = true_runs(zero)
    long = (e - s) >= stuck_days
    r, s, e = r[long], s[long], e[long]
    if r.size == 0:
        z = np.zeros(0, dtype=np.int64)
        return StuckRuns(z, z, z, np.zeros(0))
    groups = int(group.max()) + 1 if n_groups is None else n_groups
    totals = group_daily(daily, group, max(groups, 1))
    cum = np.zeros((totals.shape[0], totals.shape[1] + 1))
    np.cumsum(totals, axis=1, out=cum[:, 1:])
    g = np.maximum(group[r], 0)
    own_cum = np.zeros((r.size, daily.shape[1] + 1))
    np.cumsum(np.nan_to_num(daily[r], nan=0.0), axis=1, out=own_cum[:, 1:])
    idx = np.arange(r.size)
    own = own_cum[idx, e] - own_cum[idx, s]
    others = cum[g, e] - cum[g, s] - own
    house_volume = np.where(group[r] >= 0, others, np.inf)
    keep = house_volume > stuck_epsilon * (e - s)
    hv = np.where(np.isinf(house_volume), np.nan, house_volume)
    return StuckRuns(r[keep], s[keep], e[keep], hv[keep])
