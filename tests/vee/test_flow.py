"""Reverse flow and the sum check of intervals against the register."""

from __future__ import annotations

import numpy as np
import pytest

from core.vee.consumption import derive_consumption
from core.vee.flow import find_reverse_flow, sum_check

NAN = float("nan")


def test_reverse_flow_only_where_export_is_not_allowed() -> None:
    interval = np.array([[1.0, -0.5, 1.0, -0.25], [1.0, -2.0, 1.0, 1.0], [1.0, -1e-4, 1, 1]])
    rf = find_reverse_flow(interval, np.array([False, True, False]), reverse_tolerance=1e-3)
    assert rf.meter.tolist() == [0]
    assert (int(rf.hours[0]), float(rf.volume[0])) == (2, -0.75)
    assert (int(rf.first[0]), int(rf.end[0])) == (1, 4)
    assert find_reverse_flow(interval, np.zeros(3, dtype=bool)).meter.tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    ("register", "interval", "mismatch", "hours", "isum"),
    [
        ([0, 1, 2, 3, 4], [1, 1, 1, 1], False, 4, 4.0),
        ([0, 1, 2, 3, 4], [1, 1, 1, 1.2], True, 4, 4.2),
        ([0, 100, 200, 300, 400], [100, 100, 100, 100.9], False, 4, 400.9),  # < 1 %
        ([0, 100, 200, 300, 400], [100, 100, 100, 105], True, 4, 405.0),
        # Daily-style register: only the segments fully covered by intervals count.
        ([0, NAN, 2, NAN, 4], [1, 1, NAN, 1], False, 2, 2.0),
        ([0, NAN, 2, NAN, 4], [1, 1.5, NAN, 1], True, 2, 2.5),
        ([0, NAN, NAN, NAN, 4], [1, NAN, 1, 1], False, 0, 0.0),  # nothing comparable
        # A rollover inside the span is corrected before comparing.
        ([998, 999, 0.5, 1.5, 2.5], [1, 1.5, 1, 1], False, 4, 4.5),
    ],
)
def test_sum_check_table(
    register: list[float], interval: list[float], mismatch: bool, hours: int, isum: float
) -> None:
    c = derive_consumption(np.array([register], dtype=float), np.array([3]))
    sc = sum_check(np.array([interval]), c.hourly, c.used)
    assert bool(sc.mismatch[0]) is mismatch
    assert int(sc.hours[0]) == hours
    assert float(sc.interval_sum[0]) == pytest.approx(isum)


def test_sum_check_abs_tolerance_for_small_volumes() -> None:
    c = derive_consumption(np.array([[0.0, 0.1, 0.2]]), np.array([3]))
    iv = np.array([[0.1, 0.105]])
    assert not sum_check(iv, c.hourly, c.used).mismatch[0]
    assert sum_check(iv, c.hourly, c.used, sum_abs_tolerance=0.0).mismatch[0]
