"""Spike detector: median + k·MAD of the meter's recent days."""

from __future__ import annotations

import numpy as np
import pytest

from core.vee.spikes import find_spikes, reference_days


@pytest.mark.parametrize(
    ("n_days", "window", "day", "expected"),
    [
        (10, 3, 5, [2, 3, 4]),  # the days before
        (10, 3, 0, [1, 2, 3]),  # clamped at the start: the following days
        (10, 3, 2, [0, 1, 3]),
        (10, 3, 9, [6, 7, 8]),
        (4, 10, 1, [0, 2, 3]),  # short period: every other day
    ],
)
def test_reference_days(n_days: int, window: int, day: int, expected: list[int]) -> None:
    assert reference_days(n_days, window)[day].tolist() == expected


# A steady meter alternating 0.9 / 1.1 over 21 days: for an even day the other 20 days have
# median 1.0 and MAD 0.1 exactly.
BASE = np.array([0.9, 1.1] * 10 + [0.9])


@pytest.mark.parametrize(
    ("day", "value", "k", "min_ratio", "is_spike"),
    [
        (12, 1.5, 6.0, 1.25, False),  # 1.0 + 6·0.1 = 1.6
        (12, 1.7, 6.0, 1.25, True),
        (12, 1.7, 6.0, 2.0, False),  # above k·MAD but not twice the median
        (12, 2.1, 6.0, 2.0, True),
        (12, 1.35, 3.0, 1.25, True),  # k is a setting
        (0, 5.0, 6.0, 2.0, True),  # the first day is judged against the following days
        (20, 5.0, 6.0, 2.0, True),
    ],
)
def test_spike_threshold(
    day: int, value: float, k: float, min_ratio: float, is_spike: bool
) -> None:
    daily = BASE.copy()
    daily[day] = value
    s = find_spikes(daily[None, :], spike_k=k, spike_min_ratio=min_ratio)
    assert (s.day.tolist() == [day]) is is_spike
    assert s.day.size == int(is_spike)
    if is_spike:
        assert s.median[0] == pytest.approx(1.0)
        assert s.threshold[0] == pytest.approx(max(1.0 + k * 0.1, min_ratio))


def test_unknown_days_neither_judged_nor_counted() -> None:
    daily = BASE.copy()
    daily[:14] = np.nan  # 6 known reference days left for day 19 < spike_min_days (7)
    daily[19] = 9.0
    assert find_spikes(daily[None, :]).day.size == 0
    daily[8:14] = 1.0
    assert find_spikes(daily[None, :]).day.tolist() == [19]


def test_idle_meter_and_skip() -> None:
    daily = np.zeros((3, 21))
    daily[0, 10] = 5.0  # median 0: the stuck detector's business
    daily[1] = BASE
    daily[1, 10] = 5.0
    daily[2] = BASE
    daily[2, 10] = 5.0
    s = find_spikes(daily, skip=np.array([False, False, True]))
    assert list(zip(s.meter.tolist(), s.day.tolist(), strict=True)) == [(1, 10)]


def test_vectorised_equals_per_meter() -> None:
    rng = np.random.default_rng(3)
    daily = rng.gamma(20, 0.05, size=(50, 30))
    daily[rng.integers(0, 50, 10), rng.integers(0, 30, 10)] *= 6
    daily[rng.random((50, 30)) < 0.05] = np.nan
    together = find_spikes(daily)
    alone = [(m, d) for m in range(50) for d in find_spikes(daily[m : m + 1]).day.tolist()]
    assert list(zip(together.meter.tolist(), together.day.tolist(), strict=True)) == alone
    assert len(alone) >= 5
