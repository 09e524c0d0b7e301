"""Missing data: a meter silent for a meaningful gap, not every hour a daily meter skips.

A live fleet reports at different rates: smart meters once a day, house meters every hour,
residents once a month (off the hourly grid). Counting missing hourly values calls every
daily meter "missing"; what an operator needs is the meter that went quiet. So a meter is
reported when its longest gap between readings reaches ``missing_gap_hours`` (default 72 h:
a daily meter may lose a message or two), critical from ``missing_critical_hours`` (a week).
Hours after ``observed`` (the period's future, in a run of the current month) do not count.
"""

from __future__ import annotations

import numpy as np

from core.vee.anomaly import Anomaly, meter_anomaly
from core.vee.arrays import F64, B, true_runs
from core.vee.codes import AnomalyType, Severity
from core.vee.fleet import Fleet
from core.vee.settings import VeeSettings

FIRST_GAPS = 10
"""Gaps listed in the evidence (all are counted)."""


def missing_anomalies(
    fleet: Fleet,
    values: F64,
    what: str,
    s: VeeSettings,
    *,
    only: B | None = None,
    observed: int | None = None,
) -> list[Anomaly]:
    """One anomaly per meter whose longest gap reaches ``s.missing_gap_hours`` and that misses
    at least ``s.missing_min_hours`` values, covering its first to last long gap.

    ``what``: ``register`` (a value per hour boundary: a gap between two readings is one hour
    longer than the missing values between them) or ``interval`` (a value per hour).
    ``observed``: columns that lie in the past (None: all). A register row with no value at
    all has nothing to measure gaps between (monthly readings off the hourly grid): skipped.
    """
    n = values.shape[1] if observed is None else max(0, min(observed, values.shape[1]))
    if n == 0 or values.shape[0] == 0:
        return []
    missing = ~np.isfinite(values[:, :n])
    counts = missing.sum(axis=1)
    candidates = counts >= max(s.missing_min_hours, 1)
    if only is not None:
        candidates &= only
    if what == "register":
        candidates &= counts < n
    rows = np.flatnonzero(candidates)
    r, a, b = true_runs(missing[rows])
    gap = b - a
    if what == "register":
        gap = gap + ((a > 0) & (b < n))  # between two readings: one hour more
    long = gap >= max(s.missing_gap_hours, 1)
    out = []
    for k, row in enumerate(rows):
        mine = r == k
        if not long[mine].any():
            continue
        starts, ends, gaps = a[mine], b[mine], gap[mine]
        wide = long[mine]
        longest = int(gaps.max())
        severity = Severity.CRITICAL if longest >= s.missing_critical_hours else Severity.WARNING
        listed = [
            [fleet.hour_ts(int(x)).isoformat(), fleet.hour_ts(int(y)).isoformat()]
            for x, y in zip(starts[wide][:FIRST_GAPS], ends[wide][:FIRST_GAPS], strict=True)
        ]
        out.append(
            meter_anomaly(
                fleet,
                AnomalyType.MISSING,
                int(row),
                int(starts[wide][0]),
                int(ends[wide][-1]),
                severity,
                {
                    "data": what,
                    "missing": int(counts[row]),
                    "expected": n,
                    "gaps": int(wide.sum()),
                    "longest_gap_hours": longest,
                    "min_gap_hours": s.missing_gap_hours,
                    "first_gaps": listed,
                },
            )
        )
    return out
