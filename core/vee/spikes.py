"""Spike detection: a day's consumption above median + k·MAD of the meter's recent days."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.vee.arrays import F64, I64, B


@dataclass(frozen=True, slots=True)
class Spikes:
    """Spike days: parallel arrays, one entry per (meter, day)."""

    meter: I64
    day: I64
    value: F64
    median: F64
    mad: F64
    threshold: F64


def reference_days(n_days: int, window: int) -> I64:
    """(D, W) day indices each day is compared with: the ``window`` days before it.

    Near the start of the period, where fewer days precede it, the window is the first
    ``window + 1`` days minus the day itself, so early days are still judged (a batch pass
    has the whole period in hand). With fewer than ``window + 1`` days, all other days.
    """
    w = min(window, n_days - 1)
    if w <= 0:
        return np.zeros((n_days, 0), dtype=np.int64)
    days = np.arange(n_days)
    first = np.clip(days - w, 0, n_days - 1 - w)
    block = first[:, None] + np.arange(w + 1)[None, :]  # w+1 days that include day d
    # Drop d from its block; when d lies outside the block (d > first + w) drop the oldest.
    drop = np.clip(days - first, 0, w)
    keep = np.arange(w + 1)[None, :] != drop[:, None]
    out: I64 = np.asarray(block[keep], dtype=np.int64).reshape(n_days, w)
    return out


def find_spikes(
    daily: F64,
    *,
    spike_k: float = 6.0,
    spike_window_days: int = 28,
    spike_min_days: int = 7,
    spike_min_ratio: float = 2.0,
    skip: B | None = None,
) -> Spikes:
    """Days whose consumption exceeds max(median + k·MAD, min_ratio·median) of their
    reference days.

    ``daily`` is (M, D) with NaN for unknown days (they are neither judged nor used as
    reference). Meters whose reference median is 0 are left to the stuck detector. ``skip``
    (M,) excludes meters (house meters by default in the batch pass).
    """
    m, d = daily.shape
    empty_f = np.zeros(0)
    empty_i = np.zeros(0, dtype=np.int64)
    ref = reference_days(d, spike_window_days)
    if m == 0 or ref.shape[1] < spike_min_days:
        return Spikes(empty_i, empty_i, empty_f, empty_f, empty_f, empty_f)
    rows = np.arange(m) if skip is None else np.flatnonzero(~skip)
    med = np.full((m, d), np.nan)
    mad = np.full((m, d), np.nan)
    count = np.zeros((m, d), dtype=np.int64)
    for lo in range(0, rows.size, 1024):
        sel = rows[lo : lo + 1024]
        windows = daily[sel][:, ref]  # (rows, D, W)
        med[sel], mad[sel], count[sel] = _median_mad(windows)
    with np.errstate(invalid="ignore"):
        threshold = np.maximum(med + spike_k * mad, spike_min_ratio * med)
        hit = (count >= spike_min_days) & (med > 0) & (daily > threshold)
    r, c = np.nonzero(hit)
    return Spikes(
        r.astype(np.int64),
        c.astype(np.int64),
        daily[r, c],
        med[r, c],
        mad[r, c],
        threshold[r, c],
    )


def _median_mad(windows: F64) -> tuple[F64, F64, I64]:
    """NaN-aware median and MAD along the last axis, by sorting (NaN sorts last)."""
    n = np.isfinite(windows).sum(axis=-1)
    med = _sorted_median(np.sort(windows, axis=-1), n)
    dev = np.abs(windows - med[..., None])
    mad = _sorted_median(np.sort(dev, axis=-1), n)
    return med, mad, n.astype(np.int64)


def _sorted_median(s: F64, n: np.ndarray) -> F64:
    lo = np.clip((n - 1) // 2, 0, None)[..., None]
    hi = np.clip(n // 2, 0, None)[..., None]
    a = np.take_along_axis(s, lo, axis=-1)[..., 0]
    b = np.take_along_axis(s, hi, axis=-1)[..., 0]
    out: F64 = np.where(n > 0, (a + b) / 2, np.nan)
    return out
