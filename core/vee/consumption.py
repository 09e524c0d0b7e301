"""Hourly and daily consumption from register values, with drops classified.

A register can go down for three reasons, told apart here (and reported by
:mod:`core.vee.steps`):

- rollover: the previous value is within ``rollover_margin`` of the capacity (10**digits) and
  the new one within the same share of zero; consumption = capacity − previous + new.
- meter replacement: the new value is at most ``replacement_max_share`` of the previous one
  (a new meter starts near zero) and the readings of the next ``replacement_confirm_hours``
  count on normally from there (no further drop, no climb back half-way to the old value).
  The new meter is assumed to have started at zero, so the step's consumption is the new
  value; the installation reading, when known, is the store's business.
- jitter: a drop of at most ``rollback_min_drop`` is ignored (the reading is skipped).
- rollback: anything else. The step's consumption is unknown (NaN hours) and counting
  resumes from the lower value. If the readings climb back to the old level within the
  confirmation window the low ones were bad readings: they are excluded (``returned``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.vee.arrays import F64, B, interpolate_rows
from core.vee.codes import AnomalyType


@dataclass(frozen=True, slots=True)
class Step:
    """A classified register drop between register columns ``prev_column`` and ``column``."""

    kind: AnomalyType  # ROLLBACK or REPLACEMENT
    meter: int
    prev_column: int
    column: int
    prev: float
    value: float
    returned: bool = False


@dataclass(frozen=True, slots=True)
class Consumption:
    """Consumption derived from a register array (M meters, T columns, D days).

    hourly: (M, T−1), the consumption of hour ``[t, t+1)``; register gaps are spread linearly
        between the readings around them; NaN before the first / after the last reading and
        over rollback steps.
    daily: (M, D) sums of ``hourly``; NaN when any hour of the day is NaN.
    used: (M, T) register readings actually used (finite, not excluded as bad).
    steps: rollbacks and replacements, in meter then time order.
    rollovers: (M,) number of rollovers per meter.
    """

    hourly: F64
    daily: F64
    used: B
    steps: tuple[Step, ...]
    rollovers: np.ndarray


def derive_consumption(
    register: F64,
    digits: np.ndarray,
    *,
    rollover_margin: float = 0.1,
    replacement_max_share: float = 0.05,
    replacement_confirm_hours: int = 48,
    rollback_min_drop: float = 0.0,
) -> Consumption:
    """Consumption of every meter from its hourly register values (see the module docstring)."""
    m, t = register.shape
    used = np.isfinite(register)
    corrected = register.copy()
    rollovers = np.zeros(m, dtype=np.int64)
    steps: list[Step] = []
    unknown: list[tuple[int, int, int]] = []  # (meter, first hour, end hour)
    for row in _rows_with_drops(register, used, rollback_min_drop):
        _classify_row(
            row,
            register[row],
            int(digits[row]),
            corrected,
            used,
            rollovers,
            steps,
            unknown,
            rollover_margin=rollover_margin,
            replacement_max_share=replacement_max_share,
            confirm_hours=replacement_confirm_hours,
            jitter=rollback_min_drop,
        )
    filled = interpolate_rows(corrected)
    hourly = np.diff(filled, axis=1)
    for row, lo, hi in unknown:
        hourly[row, lo:hi] = np.nan
    days = (t - 1) // 24
    daily = hourly[:, : days * 24].reshape(m, days, 24).sum(axis=2)
    return Consumption(hourly, daily, used, tuple(steps), rollovers)


def _rows_with_drops(register: F64, used: B, jitter: float) -> list[int]:
    """Rows where some reading is below the last reading before it (vectorised pre-filter)."""
    cols = np.arange(register.shape[1])
    last = np.maximum.accumulate(np.where(used, cols, -1), axis=1)
    ffilled = np.take_along_axis(register, np.maximum(last, 0), axis=1)
    ffilled[last < 0] = np.nan
    with np.errstate(invalid="ignore"):
        drop = used[:, 1:] & (register[:, 1:] < ffilled[:, :-1])
    return [int(r) for r in np.flatnonzero(drop.any(axis=1))]


def _classify_row(
    row: int,
    values: F64,
    digits: int,
    corrected: F64,
    used: B,
    rollovers: np.ndarray,
    steps: list[Step],
    unknown: list[tuple[int, int, int]],
    *,
    rollover_margin: float,
    replacement_max_share: float,
    confirm_hours: int,
    jitter: float,
) -> None:
    # Drops are rare, so walking one meter's readings in Python costs little and keeps the
    # rules readable; the vectorised pre-filter keeps clean meters out of here.
    pos = np.flatnonzero(np.isfinite(values))
    v = values[pos]
    n = pos.size
    increment = np.zeros(n)
    excluded = np.zeros(n, dtype=bool)
    capacity = 10.0**digits if digits > 0 else np.inf
    last = 0
    i = 1
    while i < n:
        prev, cur = float(v[last]), float(v[i])
        if cur >= prev:
            last, i = i, i + 1
            continue
        if cur >= prev - jitter:
            # Jitter: skip the reading, so consumption between its neighbours stays exact.
            excluded[i] = True
            i += 1
            continue
        if prev >= capacity * (1 - rollover_margin) and cur <= capacity * rollover_margin:
            increment[i] += capacity
            rollovers[row] += 1
            last, i = i, i + 1
            continue
        window = np.flatnonzero((pos > pos[i]) & (pos <= pos[i] + confirm_hours))
        back = window[v[window] >= prev - jitter]
        if back.size:
            j = int(back[0])
            excluded[i:j] = True
            steps.append(
                Step(AnomalyType.ROLLBACK, row, int(pos[last]), int(pos[i]), prev, cur, True)
            )
            i = j
            continue
        later = v[window]
        is_replacement = (
            cur <= replacement_max_share * prev
            and window.size > 0
            and bool(np.all(later >= cur - jitter))
            and bool(np.all(later < cur + (prev - cur) / 2))
        )
        if is_replacement:
            increment[i] += prev  # new meter from zero: the step consumed ``cur``
            steps.append(Step(AnomalyType.REPLACEMENT, row, int(pos[last]), int(pos[i]), prev, cur))
        else:
            increment[i] += prev - cur
            unknown.append((row, int(pos[last]), int(pos[i])))
            steps.append(Step(AnomalyType.ROLLBACK, row, int(pos[last]), int(pos[i]), prev, cur))
        last, i = i, i + 1
    keep = ~excluded
    corrected[row] = np.nan
    corrected[row, pos[keep]] = (v + np.cumsum(increment))[keep]
    used[row, pos[excluded]] = False
