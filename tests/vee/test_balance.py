"""House balance: ОДПУ against Σ premises, daily and per period."""

from __future__ import annotations

import numpy as np
import pytest

from core.vee.balance import house_balance, persistent_imbalances

N_S = 6  # len(SERVICES)


def _house(premises: list[float], odpu: list[float]) -> tuple[np.ndarray, ...]:
    """Two premises (each row a daily series) and one ОДПУ in house 0, service 0."""
    daily = np.array([premises, premises, odpu], dtype=float)
    house = np.array([0, 0, 0])
    service = np.array([0, 0, 0])
    odpu_flag = np.array([False, False, True])
    return daily, house, service, odpu_flag


@pytest.mark.parametrize(
    ("odpu_per_day", "expected_ratio"),
    [(2.0, 0.0), (2.5, 0.2), (4.0, 0.5), (1.6, -0.25)],
)
def test_daily_and_period_ratio(odpu_per_day: float, expected_ratio: float) -> None:
    daily, house, service, odpu = _house([1.0] * 10, [odpu_per_day] * 10)
    t = house_balance(daily, np.isfinite(daily), house, service, odpu, n_services=N_S)
    assert (t.house.tolist(), t.service.tolist(), t.premises.tolist()) == ([0], [0], [2])
    np.testing.assert_allclose(t.ratio[0], expected_ratio)
    assert t.period_ratio[0] == pytest.approx(expected_ratio)


def test_untrusted_days_use_the_meters_median_estimate() -> None:
    daily, house, service, odpu = _house([1.0] * 10, [2.0] * 10)
    daily[0, 3:6] = 0.0  # stuck days on premise 0
    good = np.ones_like(daily, dtype=bool)
    naive = house_balance(daily, good, house, service, odpu, n_services=N_S)
    assert naive.ratio[0, 4] == pytest.approx(0.5)
    good[0, 3:6] = False
    t = house_balance(daily, good, house, service, odpu, n_services=N_S)
    np.testing.assert_allclose(t.ratio[0], 0.0)
    assert t.estimated_meter_days[0] == 3


def test_unknown_house_day_and_unmetered_normative() -> None:
    daily, house, service, odpu = _house([1.0] * 4, [3.0, np.nan, 3.0, 3.0])
    unmetered = np.zeros((1, N_S))
    unmetered[0, 0] = 0.5
    t = house_balance(
        daily, np.isfinite(daily), house, service, odpu, n_services=N_S, unmetered_daily=unmetered
    )
    np.testing.assert_allclose(t.ratio[0], [1 / 6, np.nan, 1 / 6, 1 / 6])
    assert t.period_ratio[0] == pytest.approx(1 / 6)


def test_a_premise_without_daily_data_leaves_the_balance_unknown() -> None:
    daily, house, service, odpu = _house([1.0] * 5, [2.0] * 5)
    daily[1] = np.nan  # premise 1 is read monthly: no daily value at all
    t = house_balance(daily, np.isfinite(daily), house, service, odpu, n_services=N_S)
    assert (t.premises.tolist(), t.covered.tolist()) == ([2], [1])
    assert np.isnan(t.ratio[0]).all() and np.isnan(t.period_ratio[0])  # not a 50 % "loss"
    found = persistent_imbalances(t, balance_threshold=0.15, balance_persistent_days=3)
    assert len(found.row) == 0


def test_groups_without_odpu_are_not_listed() -> None:
    daily = np.ones((3, 5))
    t = house_balance(
        daily,
        np.ones((3, 5), dtype=bool),
        np.array([0, 1, 1]),
        np.array([0, 0, 2]),
        np.array([False, True, False]),
        n_services=N_S,
    )
    assert (t.house.tolist(), t.service.tolist(), t.premises.tolist()) == ([1], [0], [0])


@pytest.mark.parametrize(
    ("ratios", "threshold", "days", "expected"),
    [
        ([0.2] * 10, 0.15, 7, [(0, 10, False)]),
        ([0.2] * 6 + [0.0] * 4, 0.15, 7, []),  # not persistent
        ([0.1] * 10, 0.15, 7, []),
        ([0.1] * 10, 0.07, 7, [(0, 10, False)]),
        ([0.0] * 2 + [-0.3] * 8, 0.15, 7, [(2, 10, True)]),
        ([0.2] * 4 + [np.nan] + [0.2] * 5, 0.15, 5, [(5, 10, False)]),  # unknown day ends a run
    ],
)
def test_persistent_imbalance_runs(
    ratios: list[float], threshold: float, days: int, expected: list[tuple[int, int, bool]]
) -> None:
    odpu = [1.0] * len(ratios)
    premises = [(1 - r) / 2 if np.isfinite(r) else 0.5 for r in ratios]
    daily, house, service, flag = _house(premises, odpu)
    daily[2, np.isnan(ratios)] = np.nan
    t = house_balance(daily, np.isfinite(daily), house, service, flag, n_services=N_S)
    runs = persistent_imbalances(t, balance_threshold=threshold, balance_persistent_days=days)
    got = [
        (int(a), int(b), bool(n))
        for a, b, n in zip(runs.first, runs.end, runs.negative, strict=True)
    ]
    assert got == expected
