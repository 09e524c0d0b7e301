"""Streaming checks: the scalar rules as tables, the vectorized pass against the scalar one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.codes import Flag, Reason
from core.validation import (
    STATUS_ACCEPT,
    STATUS_BACKFILL,
    STATUS_ROLLBACK,
    STATUS_SAME_KEY,
    check_backfill,
    check_register,
    check_registers,
)

T0 = datetime(2026, 3, 1, tzinfo=UTC)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("value", "previous", "digits", "max_rate", "reason", "flags"),
    [
        (5.0, None, None, None, None, 0),  # first reading of a meter
        (-1.0, None, None, None, Reason.NEGATIVE_VALUE, 0),
        (12.0, (T0, 10.0), None, None, None, 0),
        (10.0, (T0, 10.0), None, None, None, 0),  # no consumption is fine
        (9.0, (T0, 10.0), None, None, Reason.REGISTER_ROLLBACK, 0),
        (3.0, (T0, 99_990.0), 5, None, None, Flag.ROLLOVER),
        (3.0, (T0, 99_990.0), None, None, None, Flag.ROLLOVER),  # capacity inferred: 5 digits
        (50_000.0, (T0, 99_990.0), 5, None, Reason.REGISTER_ROLLBACK, 0),  # not near zero
        (3.0, (T0, 80_000.0), 5, None, Reason.REGISTER_ROLLBACK, 0),  # not near capacity
        (30.0, (T0, 10.0), None, 10.0, None, Flag.IMPLAUSIBLE_RATE),  # 20 per hour > 10
        (15.0, (T0, 10.0), None, 10.0, None, 0),
        (5.0, (T0, 99_999.0), 5, 1.0, None, Flag.ROLLOVER | Flag.IMPLAUSIBLE_RATE),
    ],
)
def test_check_register(value, previous, digits, max_rate, reason, flags):
    verdict = check_register(value, T0 + H, previous, capacity_digits=digits, max_rate=max_rate)
    assert (verdict.reason, verdict.flags) == (reason, flags)


@pytest.mark.parametrize(
    ("value", "before", "after", "reason"),
    [
        (15.0, (T0, 10.0), 20.0, None),
        (25.0, (T0, 10.0), 20.0, Reason.REGISTER_ROLLBACK),  # above the next stored value
        (5.0, (T0, 10.0), 20.0, Reason.REGISTER_ROLLBACK),  # below the one before
        (99_995.0, (T0, 99_990.0), 3.0, None),  # the next one rolled over
        (15.0, None, None, None),
    ],
)
def test_check_backfill(value, before, after, reason):
    verdict = check_backfill(value, T0 + H, before, after)
    assert verdict.reason == reason
    if reason is None:
        assert verdict.flags & Flag.OUT_OF_ORDER


def _us(t: datetime) -> int:
    return int(t.timestamp() * 1_000_000)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 3),  # meter
            st.integers(-3, 40),  # hour (negative: older than the stored value)
            st.sampled_from([0.0, 1.0, 5.0, 9.0, 10.0, 10.5, 12.0, 95.0, 99.0, 150.0]),
        ),
        min_size=1,
        max_size=30,
    ),
    st.lists(st.one_of(st.none(), st.sampled_from([0.0, 10.0, 98.0])), min_size=4, max_size=4),
)
def test_vectorized_pass_matches_the_scalar_rule(rows, stored):
    """Without rollbacks in a meter's batch, each element's verdict is the scalar verdict
    against its predecessor (or the stored value); rollbacks are flagged for re-checking."""
    rows = sorted(rows, key=lambda r: (r[0], r[1]))
    meter = np.array([m for m, _, _ in rows], dtype=np.int32)
    ts = np.array([_us(T0 + h * H) for _, h, _ in rows], dtype=np.int64)
    value = np.array([v for _, _, v in rows])
    last = [(T0, stored[m]) if stored[m] is not None else None for m in meter]
    last_ts = np.array([_us(x[0]) if x else np.iinfo(np.int64).min for x in last], np.int64)
    last_value = np.array([x[1] if x else 0.0 for x in last])
    checks = check_registers(
        meter, ts, value, last_ts=last_ts, last_value=last_value,
        capacity=np.full(len(rows), 100.0), max_rate=np.full(len(rows), 20.0),
    )  # fmt: skip
    for i, (m, h, v) in enumerate(rows):
        status = checks.status[i]
        when = T0 + h * H
        if last[i] is not None and when < last[i][0]:
            assert status == STATUS_BACKFILL
            continue
        prev = last[i]
        if i > 0 and rows[i - 1][0] == m and checks.status[i - 1] != STATUS_BACKFILL:
            prev = (T0 + rows[i - 1][1] * H, rows[i - 1][2])
        if prev is not None and when == prev[0]:
            assert status == STATUS_SAME_KEY
            continue
        verdict = check_register(v, when, prev, capacity_digits=2, max_rate=20.0)
        if verdict.reason == Reason.REGISTER_ROLLBACK:
            assert status == STATUS_ROLLBACK
        else:
            assert status == STATUS_ACCEPT, (rows, i)
            assert checks.flags[i] == verdict.flags
