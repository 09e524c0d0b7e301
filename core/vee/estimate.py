"""Estimation of missing interval values (gap filling), in the order of ``domain/vee.md``.

1. Linear interpolation between the values around a gap of at most ``linear_max_gap_hours``.
2. The average of the same hour on days of the same type (weekday / weekend, local time)
   over the previous ``history_weeks`` weeks, from actual values only. "Same hour" is a
   whole number of days back (24·k hours), exact in zones without daylight saving time
   (Moscow); across a DST change it is one hour off.

Actual values are never changed; every filled value carries its method
(:class:`core.vee.codes.EstimateMethod`); what neither rule can fill stays NaN with
``NOT_ESTIMATED``. Public holidays are treated as the weekday they fall on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from core.vee.arrays import F64, interpolate_rows, true_runs
from core.vee.codes import EstimateMethod
from core.vee.fleet import VeeInputError

U8 = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Estimate:
    """``values``: the input with gaps filled where possible; ``method``: one code per value."""

    values: F64
    method: U8


def weekend_hours(start: datetime, n_hours: int, tz: str) -> npt.NDArray[np.bool_]:
    """Per hour column from ``start``: does it fall on a Saturday or Sunday in ``tz``."""
    zone = ZoneInfo(tz)
    return np.array(
        [(start + timedelta(hours=i)).astimezone(zone).weekday() >= 5 for i in range(n_hours)],
        dtype=bool,
    )


def estimate_intervals(
    values: F64,
    *,
    start: datetime,
    tz: str = "Europe/Moscow",
    linear_max_gap_hours: int = 1,
    history_weeks: int = 3,
) -> Estimate:
    """Fill NaN gaps of hourly interval values (M, H); column ``h`` starts at ``start + h`` h.

    Pass ``history_weeks`` weeks of data before the period in the same array, or the first
    weeks can only be filled linearly.
    """
    if values.ndim != 2:
        raise VeeInputError(f"interval values have {values.ndim} dimensions, expected 2")
    if start.tzinfo is None:
        raise VeeInputError(f"start {start!r} is not an aware datetime")
    m, n = values.shape
    actual = np.isfinite(values)
    out = values.copy()
    method = np.where(actual, EstimateMethod.ACTUAL, EstimateMethod.NOT_ESTIMATED).astype(np.uint8)

    # 1. Short gaps with actual values on both sides: linear.
    r, s, e = true_runs(~actual)
    short = (e - s <= linear_max_gap_hours) & (s > 0) & (e < n)
    if short.any():
        line = interpolate_rows(values)
        mask = np.zeros((m, n), dtype=bool)
        for row, lo, hi in zip(r[short], s[short], e[short], strict=True):
            mask[row, lo:hi] = True
        out[mask] = line[mask]
        method[mask] = EstimateMethod.LINEAR

    # 2. The rest: same local hour, same day type, previous weeks, actual values only.
    todo = ~actual & (method == EstimateMethod.NOT_ESTIMATED)
    if todo.any():
        weekend = weekend_hours(start, n, tz)
        total = np.zeros((m, n))
        count = np.zeros((m, n), dtype=np.int64)
        for k in range(1, 7 * history_weeks + 1):
            lag = 24 * k
            if lag >= n:
                break
            same = weekend[lag:] == weekend[:-lag]  # day type of h vs h − 24k
            src = values[:, :-lag]
            ok = actual[:, :-lag] & same[None, :]
            total[:, lag:] += np.where(ok, src, 0.0)
            count[:, lag:] += ok
        fill = todo & (count > 0)
        out[fill] = total[fill] / count[fill]
        method[fill] = EstimateMethod.SAME_DAY_TYPE_AVERAGE
    return Estimate(out, method)


def interpolate_register(values: F64) -> Estimate:
    """Register values (M, T) with gaps filled linearly between the readings around them
    (vee.md: "or between two register readings"); leading and trailing gaps stay NaN."""
    actual = np.isfinite(values)
    filled = interpolate_rows(values)
    method = np.where(
        actual,
        EstimateMethod.ACTUAL,
        np.where(np.isfinite(filled), EstimateMethod.LINEAR, EstimateMethod.NOT_ESTIMATED),
    ).astype(np.uint8)
    filled = np.where(actual, values, filled)
    return Estimate(filled, method)
