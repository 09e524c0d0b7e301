"""Interval checks: reverse flow, and the sum check of intervals against the register."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.vee.arrays import F64, I64, B, next_index, previous_index


@dataclass(frozen=True, slots=True)
class ReverseFlow:
    """Meters with negative intervals: parallel arrays."""

    meter: I64
    hours: I64  # how many negative intervals
    volume: F64  # their sum (negative)
    first: I64  # first negative hour
    end: I64  # one past the last negative hour


def find_reverse_flow(
    interval: F64, allows_export: B, *, reverse_tolerance: float = 0.0
) -> ReverseFlow:
    """Negative interval values (below −tolerance) on channels that do not allow export."""
    with np.errstate(invalid="ignore"):
        neg = (interval < -reverse_tolerance) & ~allows_export[:, None]
    count = neg.sum(axis=1)
    rows = np.flatnonzero(count)
    n = interval.shape[1]
    sub = neg[rows]
    first = np.argmax(sub, axis=1)
    end = n - np.argmax(sub[:, ::-1], axis=1)
    volume = np.where(sub, interval[rows], 0.0).sum(axis=1)
    return ReverseFlow(rows.astype(np.int64), count[rows].astype(np.int64), volume, first, end)


@dataclass(frozen=True, slots=True)
class SumCheck:
    """Per meter: Σ intervals and the register consumption over the comparable hours.

    All arrays are (M,); ``hours`` is 0 for meters with nothing comparable (then the sums
    are 0 and ``mismatch`` False).
    """

    interval_sum: F64
    register_sum: F64
    hours: I64
    first: I64
    end: I64
    mismatch: B


def sum_check(
    interval: F64,
    hourly: F64,
    used: B,
    *,
    sum_tolerance: float = 0.01,
    sum_abs_tolerance: float = 0.01,
) -> SumCheck:
    """Compare Σ intervals with the register difference over the same span.

    The span is made of the segments between consecutive register readings (``used``) whose
    intervals are all present: there both sums cover exactly the same hours, whatever the
    register reading frequency. ``hourly`` is the register consumption per hour (rollovers
    corrected, NaN over unknown steps, which drop their segment). A mismatch is
    ``|Σint − Σreg| > max(sum_tolerance·max(|Σint|, |Σreg|), sum_abs_tolerance)``.
    """
    m, n = interval.shape
    bad = ~np.isfinite(interval) | ~np.isfinite(hourly)
    bad_cum = np.zeros((m, n + 1), dtype=np.int64)
    np.cumsum(bad, axis=1, out=bad_cum[:, 1:])
    # Hour h lies in the segment from the last reading at or before h to the first after it.
    p = previous_index(used)[:, :n]
    q = next_index(used)[:, 1:]
    has_segment = (p >= 0) & (q <= n)
    pc, qc = np.clip(p, 0, n), np.clip(q, 0, n)
    rows = np.arange(m)[:, None]
    clean = bad_cum[rows, qc] - bad_cum[rows, pc] == 0
    take = has_segment & clean
    isum = np.where(take, interval, 0.0).sum(axis=1)
    rsum = np.where(take, hourly, 0.0).sum(axis=1)
    hours = take.sum(axis=1).astype(np.int64)
    first = np.where(hours > 0, np.argmax(take, axis=1), 0).astype(np.int64)
    end = np.where(hours > 0, n - np.argmax(take[:, ::-1], axis=1), 0).astype(np.int64)
    diff = np.abs(isum - rsum)
    limit = np.maximum(sum_tolerance * np.maximum(np.abs(isum), np.abs(rsum)), sum_abs_tolerance)
    mismatch = (hours > 0) & (diff > limit)
    return SumCheck(isum, rsum, hours, first, end, mismatch)
