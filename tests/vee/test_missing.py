"""Missing data on a live fleet (issue #20): a meter that went quiet is reported, a daily meter
skipping 23 hours a day by design is not; severity follows the gap, not the share of hours."""

from __future__ import annotations

import numpy as np
import pytest

from core.vee import AnomalyType, Severity, VeeSettings, run_batch
from tests.vee.helpers import fleet_of, steady_register

DAYS = 30


def _daily(reg: np.ndarray) -> np.ndarray:
    """Only the reading at 01:00 of each day, as a smart meter reporting daily sends."""
    out = np.full_like(reg, np.nan)
    out[:, 1::24] = reg[:, 1::24]
    return out


def _missing(res) -> dict[int, object]:  # type: ignore[no-untyped-def]
    return {a.meter_index: a for a in res.anomalies if a.type is AnomalyType.MISSING}


def test_daily_meters_are_not_missing_and_a_quiet_one_is() -> None:
    reg = _daily(np.array([steady_register(DAYS, 0.05, start=10.0 * i) for i in range(6)]))
    reg[1, 24 * 10 :] = np.nan  # dead from day 10: silent 20 days to the end
    reg[2, 24 * 5 + 1 : 24 * 8 + 1] = np.nan  # three daily messages lost: 96 h between readings
    reg[3, 24 * 5 + 1 : 24 * 6 + 1] = np.nan  # one lost: 48 h
    reg[4, :] = np.nan  # monthly readings only, off the hourly grid
    found = _missing(run_batch(fleet_of(reg)))
    assert set(found) == {1, 2}
    dead, lost = found[1], found[2]
    assert dead.severity is Severity.CRITICAL and dead.evidence["longest_gap_hours"] >= 24 * 19
    assert lost.severity is Severity.WARNING and lost.evidence["longest_gap_hours"] == 96
    assert lost.evidence["gaps"] == 1 and lost.evidence["min_gap_hours"] == 72


def test_the_future_of_the_current_month_is_not_missing() -> None:
    reg = np.array([steady_register(DAYS, 0.05), steady_register(DAYS, 0.05)])
    now = 24 * 12  # the run happens on day 12: the rest of the month has no readings yet
    reg[:, now + 1 :] = np.nan
    reg[1, now - 100 : now + 1] = np.nan  # silent for the last 100 hours before now
    assert set(_missing(run_batch(fleet_of(reg)))) == {0, 1}  # without "now": both "silent"
    found = _missing(run_batch(fleet_of(reg), observed_hours=now))
    assert set(found) == {1}
    assert found[1].evidence["expected"] == now + 1 and found[1].evidence["missing"] == 101


def test_interval_gaps_and_every_threshold_is_a_setting() -> None:
    reg = np.array([steady_register(DAYS, 0.05)] * 3)
    interval = np.full((3, reg.shape[1] - 1), 0.05)
    interval[0, 100:180] = np.nan  # 80 h without interval data
    interval[1, 100:110] = np.nan
    interval[2, :] = np.nan  # never sends intervals: not missing
    res = run_batch(fleet_of(reg, interval=interval))
    assert {i: a.evidence["data"] for i, a in _missing(res).items()} == {0: "interval"}
    strict = VeeSettings(missing_gap_hours=5, missing_critical_hours=50)
    found = _missing(run_batch(fleet_of(reg, interval=interval), settings=strict))
    assert {i: a.severity for i, a in found.items()} == {
        0: Severity.CRITICAL,
        1: Severity.WARNING,
    }
    few = VeeSettings(missing_gap_hours=5, missing_min_hours=50)
    assert set(_missing(run_batch(fleet_of(reg, interval=interval), settings=few))) == {0}


@pytest.mark.parametrize("gap", [71, 72])
def test_the_gap_boundary_counts_hours_between_readings(gap: int) -> None:
    reg = np.array([steady_register(DAYS, 0.05)])
    reg[0, 100 : 100 + gap - 1] = np.nan  # readings at 99 and 99 + gap
    assert bool(_missing(run_batch(fleet_of(reg)))) == (gap >= 72)
