"""Stuck / zero-consumption detector."""

from __future__ import annotations

import numpy as np
import pytest

from core.vee.stuck import find_stuck, group_daily


@pytest.mark.parametrize(
    ("zero_days", "others_consume", "stuck_days", "expected"),
    [
        ((5, 40), True, 30, [(5, 40)]),
        ((5, 34), True, 30, []),  # 29 days: too short
        ((5, 35), True, 30, [(5, 35)]),
        ((5, 40), False, 30, []),  # the whole house is idle: nobody home, not a fault
        ((0, 10), True, 7, [(0, 10)]),  # window is a setting
        ((50, 60), True, 10, [(50, 60)]),  # run to the end of the period
    ],
)
def test_stuck_runs(
    zero_days: tuple[int, int],
    others_consume: bool,
    stuck_days: int,
    expected: list[tuple[int, int]],
) -> None:
    daily = np.ones((3, 60))
    daily[0, zero_days[0] : zero_days[1]] = 0.0
    if not others_consume:
        daily[1:, zero_days[0] : zero_days[1]] = 0.0
    group = np.array([0, 0, 0])
    runs = find_stuck(daily, group, stuck_days=stuck_days)
    got = [
        (int(a), int(b)) for m, a, b in zip(runs.meter, runs.first, runs.end, strict=True) if m == 0
    ]
    assert got == expected
    if expected:
        assert runs.house_volume[0] == pytest.approx(2 * (expected[0][1] - expected[0][0]))


def test_unknown_day_breaks_a_run_and_epsilon() -> None:
    daily = np.ones((2, 40))
    daily[0, 0:30] = 0.001
    assert find_stuck(daily, np.array([0, 0]), stuck_days=30).meter.size == 0
    runs = find_stuck(daily, np.array([0, 0]), stuck_days=30, stuck_epsilon=0.002)
    assert runs.meter.tolist() == [0]
    daily[0, 15] = np.nan
    assert find_stuck(daily, np.array([0, 0]), stuck_days=20, stuck_epsilon=0.002).meter.size == 0


def test_meter_without_house_reported_on_zero_alone() -> None:
    daily = np.zeros((1, 35))
    runs = find_stuck(daily, np.array([-1]), stuck_days=30)
    assert runs.meter.tolist() == [0]
    assert np.isnan(runs.house_volume[0])


def test_group_daily_sums_known_days_per_group() -> None:
    daily = np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0], [7.0, 7.0]])
    out = group_daily(daily, np.array([0, 0, 1, -1]), 2)
    np.testing.assert_allclose(out, [[3.0, 3.0], [4.0, 5.0]])
