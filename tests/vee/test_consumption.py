"""Consumption from registers: rollovers, rollbacks, replacements, bad readings, gaps."""

from __future__ import annotations

import numpy as np
import pytest

from core.vee.codes import AnomalyType
from core.vee.consumption import derive_consumption

NAN = float("nan")
RB, RP = AnomalyType.ROLLBACK, AnomalyType.REPLACEMENT


@pytest.mark.parametrize(
    ("register", "hourly", "steps", "rollovers"),
    [
        ([1, 2, 3, 4, 5], [1, 1, 1, 1], [], 0),
        ([995, 998, 2, 5], [3, 4, 3], [], 1),  # rollover at capacity 1000
        ([500, 510, 450, 460, 470], [10, NAN, 10, 10], [(RB, 1, 2, False)], 0),
        ([500, 510, 0.2, 1.2, 2.2], [10, 0.2, 1, 1], [(RP, 1, 2, False)], 0),
        # One bad zero reading, then back at the old level: excluded, spread over the gap.
        ([500, 510, 0, 511, 512], [10, 0.5, 0.5, 1], [(RB, 1, 2, True)], 0),
        # Near zero, then climbing straight back up: not a new meter.
        ([500, 510, 1, 300, 301], [10, NAN, 299, 1], [(RB, 1, 2, False)], 0),
        # A replacement seen across a gap: prev column 0, new meter's first reading col 3.
        ([500, NAN, NAN, 0.5, 1.5, 2.5], [0.5 / 3] * 3 + [1, 1], [(RP, 0, 3, False)], 0),
        # A drop in the last reading cannot be confirmed as a replacement.
        ([500, 510, 0.2], [10, NAN], [(RB, 1, 2, False)], 0),
        # Leading and trailing gaps: unknown, not zero.
        ([NAN, 5, 6, NAN], [NAN, 1, NAN], [], 0),
        # A drop below the previous top near capacity that does not wrap: rollback.
        ([995, 998, 500], [3, NAN], [(RB, 1, 2, False)], 0),
    ],
)
def test_register_steps_table(
    register: list[float],
    hourly: list[float],
    steps: list[tuple[AnomalyType, int, int, bool]],
    rollovers: int,
) -> None:
    c = derive_consumption(
        np.array([register], dtype=float), np.array([3]), replacement_confirm_hours=48
    )
    np.testing.assert_allclose(c.hourly[0], hourly, equal_nan=True)
    assert [(s.kind, s.prev_column, s.column, s.returned) for s in c.steps] == steps
    assert int(c.rollovers[0]) == rollovers


def test_jitter_is_skipped_not_flagged() -> None:
    reg = np.array([[5.0, 4.995, 5.1]])
    c = derive_consumption(reg, np.array([5]), rollback_min_drop=0.01)
    np.testing.assert_allclose(c.hourly[0], [0.05, 0.05])
    assert c.steps == ()
    assert not c.used[0, 1]
    flagged = derive_consumption(reg, np.array([5]))
    assert [s.kind for s in flagged.steps] == [RB]


def test_without_known_capacity_a_wrap_reads_as_a_new_meter() -> None:
    c = derive_consumption(np.array([[995.0, 998.0, 2.0, 5.0]]), np.array([0]))
    assert [s.kind for s in c.steps] == [RP]
    assert int(c.rollovers[0]) == 0


def test_daily_sums_and_unknown_days() -> None:
    reg = 100 + 0.5 * np.arange(24 * 3 + 1)
    reg[30] = np.nan  # interior gap: spread, the day stays known
    reg[60:] = np.nan  # trailing: day 2 unknown
    c = derive_consumption(reg[None, :], np.array([5]))
    np.testing.assert_allclose(c.daily[0], [12.0, 12.0, np.nan])


def test_rows_are_independent() -> None:
    reg = np.array([[1, 2, 3, 4], [500, 510, 450, 460], [995, 998, 2, 5]], dtype=float)
    c = derive_consumption(reg, np.array([3, 3, 3]))
    assert [(s.meter, s.kind) for s in c.steps] == [(1, RB)]
    assert c.rollovers.tolist() == [0, 0, 1]
    np.testing.assert_allclose(c.hourly[0], [1, 1, 1])
