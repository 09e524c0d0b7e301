"""Estimation: linear for short gaps, then the 3-week same-day-type average."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from core.vee import EstimateMethod, estimate_intervals, interpolate_register
from tests.vee.helpers import START

A, L, H, N = (
    EstimateMethod.ACTUAL,
    EstimateMethod.LINEAR,
    EstimateMethod.SAME_DAY_TYPE_AVERAGE,
    EstimateMethod.NOT_ESTIMATED,
)


def _weeks(n_weeks: int, *, weekday: float = 1.0, weekend: float = 3.0) -> np.ndarray:
    """Hourly values from START (Monday 00:00 Moscow): value + hour/100, by day type."""
    days = np.arange(7 * n_weeks)
    level = np.where(days % 7 >= 5, weekend, weekday)
    return (level[:, None] + np.arange(24)[None, :] / 100).reshape(1, -1)


def test_single_hour_gap_is_linear() -> None:
    v = _weeks(4)
    truth = v.copy()
    v[0, 600] = np.nan
    e = estimate_intervals(v, start=START)
    assert e.method[0, 600] == L
    assert e.values[0, 600] == pytest.approx((truth[0, 599] + truth[0, 601]) / 2)
    assert (e.method[0, np.arange(v.shape[1]) != 600] == A).all()


@pytest.mark.parametrize(
    ("first", "length", "weekend"),
    [(24 * 22 + 5, 2, False), (24 * 26 + 10, 30, True), (24 * 21, 24 * 3, False)],
)
def test_long_gap_uses_same_hour_same_day_type(first: int, length: int, weekend: bool) -> None:
    v = _weeks(4)
    truth = v.copy()
    v[0, first : first + length] = np.nan
    e = estimate_intervals(v, start=START)
    gap = slice(first, first + length)
    assert (e.method[0, gap] == H).all()
    # Profiles repeat by day type, so the average of earlier same-type days is exact.
    np.testing.assert_allclose(e.values[0, gap], truth[0, gap])
    if weekend:
        assert (e.values[0, gap] >= 3.0).any()


def test_actual_values_never_change_and_input_untouched() -> None:
    rng = np.random.default_rng(0)
    v = rng.gamma(2.0, 1.0, size=(5, 24 * 28))
    v[rng.random(v.shape) < 0.2] = np.nan
    before = v.copy()
    e = estimate_intervals(v, start=START)
    actual = np.isfinite(before)
    np.testing.assert_array_equal(e.values[actual], before[actual])
    np.testing.assert_array_equal(v, before)
    assert (e.method[actual] == A).all()
    assert set(np.unique(e.method[~actual]).tolist()) <= {L, H, N}
    assert (np.isfinite(e.values) == (e.method != N)).all()


def test_no_history_leaves_gap_not_estimated() -> None:
    v = _weeks(1)
    v[0, 10:14] = np.nan  # first day, nothing earlier
    e = estimate_intervals(v, start=START)
    assert (e.method[0, 10:14] == N).all()
    assert np.isnan(e.values[0, 10:14]).all()


def test_history_uses_only_actual_values_of_three_weeks() -> None:
    v = _weeks(5)
    v[0, 24 * 7 * 4 + 3 : 24 * 7 * 4 + 6] = np.nan  # day 28, a Monday
    v[0, 3] = 1000.0  # 4 weeks back: outside the window
    e = estimate_intervals(v, start=START, history_weeks=3)
    assert e.values[0, 24 * 28 + 3] == pytest.approx(1.03)


def test_day_type_follows_local_time() -> None:
    # 21:00 UTC Friday is 00:00 Saturday in Moscow; in UTC it is still a weekday.
    start = datetime(2025, 3, 7, 21, tzinfo=UTC)
    n = 24 * 22
    v = np.ones((1, n))
    days = np.arange(n) // 24
    v[0] = np.where(days % 7 < 2, 5.0, 1.0)  # Saturday, Sunday (local) use more
    v[0, 24 * 21 + 2 : 24 * 21 + 5] = np.nan  # day 21 is a Saturday
    e = estimate_intervals(v, start=start, tz="Europe/Moscow")
    np.testing.assert_allclose(e.values[0, 24 * 21 + 2 : 24 * 21 + 5], 5.0)
    e_utc = estimate_intervals(v, start=start, tz="UTC")
    assert e_utc.values[0, 24 * 21 + 2] != pytest.approx(5.0)


def test_interpolate_register() -> None:
    r = np.array([[np.nan, 1.0, np.nan, np.nan, 4.0, np.nan]])
    e = interpolate_register(r)
    np.testing.assert_allclose(e.values[0], [np.nan, 1, 2, 3, 4, np.nan])
    assert e.method[0].tolist() == [N, A, L, L, A, N]
