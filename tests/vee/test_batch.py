"""The whole batch pass over a small hand-made fleet."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.vee import AnomalyType, Severity, VeeSettings, run_batch
from core.vee.batch import settings_dict
from tests.vee.helpers import START, fleet_of, steady_register

DAYS = 20


def _house_fleet() -> tuple[np.ndarray, np.ndarray]:
    """House 0: 4 premises at 0.05/h and an ОДПУ that sees them; meters 0–3 premises, 4 ОДПУ."""
    reg = np.array([steady_register(DAYS, 0.05, start=100.0 + 10 * i) for i in range(4)])
    odpu = steady_register(DAYS, 0.2, start=5000.0)[None, :]
    return np.vstack([reg, odpu]), np.array([False] * 4 + [True])


def test_clean_fleet_has_no_anomalies() -> None:
    reg, odpu = _house_fleet()
    res = run_batch(fleet_of(reg, odpu=odpu.tolist()))
    assert res.anomalies == []
    np.testing.assert_allclose(res.balance.ratio, 0.0, atol=1e-9)


def test_each_fault_is_reported_once_with_evidence() -> None:
    reg, odpu = _house_fleet()
    reg[0, 100:180] = np.nan  # missing: 80 values, 81 hours between two readings
    reg[1, 24 * 12 :] += 3.0  # a spike on day 11 (register jumps in its last hour)
    reg[1, 24 * 12 - 1] += 3.0
    reg[2, 200:] -= 5.0  # rollback
    reg[3, 24 * 5 :] = reg[3, 24 * 5]  # stuck from day 5
    reg[4, 24 * 4 :] += 0.1 * np.arange(reg.shape[1] - 24 * 4)  # leak on the ОДПУ
    fleet = fleet_of(reg, odpu=odpu.tolist())
    res = run_batch(fleet, settings=VeeSettings(stuck_days=10, balance_threshold=0.15))
    found = {(a.type, a.meter_index) for a in res.anomalies}
    assert found == {
        (AnomalyType.MISSING, 0),
        (AnomalyType.SPIKE, 1),
        (AnomalyType.ROLLBACK, 2),
        (AnomalyType.STUCK, 3),
        (AnomalyType.HOUSE_IMBALANCE, None),
    }
    by_type = {a.type: a for a in res.anomalies}
    gap = by_type[AnomalyType.MISSING]
    assert (gap.evidence["missing"], gap.evidence["longest_gap_hours"]) == (80, 81)
    assert gap.severity is Severity.WARNING
    assert by_type[AnomalyType.SPIKE].start == START.replace(day=START.day + 11)
    # 5.0 taken off while the hour's 0.05 was used
    assert by_type[AnomalyType.ROLLBACK].evidence["drop"] == pytest.approx(4.95)
    assert by_type[AnomalyType.ROLLBACK].severity is Severity.CRITICAL
    assert by_type[AnomalyType.STUCK].evidence["days"] == DAYS - 5
    leak = by_type[AnomalyType.HOUSE_IMBALANCE]
    assert (leak.house, leak.service, leak.house_index) == ("#0", "cold_water", 0)
    # The stuck meter's days are estimated on the premises' side: the leak's ratio
    # (0.1·h extra on 0.2 + 0.1·h) is about 1/3, not inflated by the stuck meter.
    assert abs(leak.evidence["mean_daily_ratio"] - 1 / 3) < 0.02
    assert leak.evidence["estimated_meter_days"] >= DAYS - 5
    for a in res.anomalies:
        json.dumps(a.as_dict(), allow_nan=False)


def test_interval_checks_in_the_batch() -> None:
    reg, _ = _house_fleet()
    reg = reg[:3]
    interval = np.full((3, reg.shape[1] - 1), 0.05)
    interval[1, 10] = -2.0  # reverse flow, and Σ intervals 2.05 (≈ 8.5 %) below the register
    interval[2, :] = np.nan  # no interval data: not "missing"
    fleet = fleet_of(reg, interval=interval, odpu=[False] * 3)
    res = run_batch(fleet)
    found = sorted((a.type.value, a.meter_index) for a in res.anomalies)
    assert found == [("reverse_flow", 1), ("sum_check_mismatch", 1)]


def test_anomalies_sorted_and_settings_listed() -> None:
    reg, odpu = _house_fleet()
    reg[3, 50:130] = np.nan
    reg[0, 50:130] = np.nan
    res = run_batch(fleet_of(reg, odpu=odpu.tolist()))
    assert [a.meter_index for a in res.anomalies] == [0, 3]
    assert settings_dict(VeeSettings())["spike_k"] == 6.0
    assert settings_dict(VeeSettings())["stuck_days"] == 30
    assert settings_dict(VeeSettings())["balance_threshold"] == 0.15


@pytest.mark.parametrize(
    ("register", "house", "types"),
    [
        (np.zeros((0, 49)), [], []),
        (np.full((2, 49), np.nan), [-1, -1], []),  # no value on the grid: not hourly
        (np.ones((2, 24 * 31 + 1)), [-1, 0], ["stuck_meter"]),  # no house: zero alone
    ],
)
def test_degenerate_fleets(register: np.ndarray, house: list[int], types: list[str]) -> None:
    res = run_batch(fleet_of(register, house=house))
    assert [a.type.value for a in res.anomalies] == types
    assert res.balance.house.size == 0
    for a in res.anomalies:
        json.dumps(a.as_dict(), allow_nan=False)


def test_a_house_meter_with_only_interval_data_balances_the_house() -> None:
    # an ASKUE house input: half-hour energies summed per hour, no register at all
    reg, odpu = _house_fleet()
    reg[4] = np.nan
    interval = np.full((5, reg.shape[1] - 1), np.nan)
    interval[4] = 0.2 * 1.25  # the house meter sees 25 % more than the premises: a leak
    interval[4, 30] = np.nan  # one hour lost on day 1: that day stays unknown
    res = run_batch(
        fleet_of(reg, odpu=odpu.tolist(), interval=interval),
        settings=VeeSettings(balance_threshold=0.15),
    )
    days = res.balance.house_daily[0]
    assert np.isnan(days[1]) and np.isnan(res.balance.ratio[0, 1])
    known = np.delete(np.arange(DAYS), 1)
    np.testing.assert_allclose(days[known], 0.25 * 24)
    np.testing.assert_allclose(res.balance.ratio[0, known], 0.2)
    assert AnomalyType.HOUSE_IMBALANCE in {a.type for a in res.anomalies}
    # the registers still win where they are known
    interval[0] = 1.0
    res = run_batch(fleet_of(reg, odpu=odpu.tolist(), interval=interval))
    np.testing.assert_allclose(res.balance.premises_daily[0, known], 0.2 * 24)
