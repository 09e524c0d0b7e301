"""Register lookups per meter (R(P), a, b) against a plain loop over each meter's registers."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.billing.history import History
from core.billing.model import Fixed, Registers

P = 24_300  # a month index (2025-01)


@st.composite
def registers(draw: st.DrawFn) -> tuple[int, list[list[int]], Registers]:
    meters = draw(st.integers(1, 6))
    months = [sorted(draw(st.sets(st.integers(P - 20, P + 3), max_size=12))) for _ in range(meters)]
    # registers of a meter past the billed ones sort last and must be ignored
    extra = draw(st.lists(st.integers(P - 20, P + 3), max_size=3, unique=True))
    rows = [(m, mo) for m, ms in enumerate(months) for mo in ms] + [
        (meters, mo) for mo in sorted(extra)
    ]
    meter = np.array([r[0] for r in rows], dtype=np.int64)
    month = np.array([r[1] for r in rows], dtype=np.int64)
    value = Fixed(np.arange(len(rows), dtype=np.int64) * 7, 0)
    return meters, months, Registers(meter, month, value, value)


@settings(max_examples=400, deadline=None)
@given(case=registers(), period=st.integers(P - 8, P + 3), window=st.integers(1, 7))
def test_lookup_matches_a_loop(
    case: tuple[int, list[list[int]], Registers], period: int, window: int
) -> None:
    meters, months, regs = case
    lk = History(regs, meters).lookup(period, window)
    start = 0
    for m, ms in enumerate(months):
        index = {mo: start + i for i, mo in enumerate(ms)}
        upto = [mo for mo in ms if mo <= period]
        rp = bool(upto) and upto[-1] == period
        assert bool(lk.has_rp[m]) == rp
        if rp:
            assert lk.current[m] == index[period]
        before = [mo for mo in upto if mo < period] if rp else upto
        assert bool(lk.has_a[m]) == bool(before)
        if before:
            a = before[-1]
            assert lk.previous[m] == index[a] and lk.a_month[m] == a
            window_months = [mo for mo in ms if a - window <= mo < a]
            assert bool(lk.has_b[m]) == bool(window_months)
            if window_months:
                assert lk.base[m] == index[window_months[0]]
        else:
            assert lk.a_month[m] == period
            assert not lk.has_b[m]
        start += len(ms)


@settings(max_examples=200, deadline=None)
@given(case=registers(), month=st.integers(P - 22, P + 5))
def test_before_counts_earlier_registers(
    case: tuple[int, list[list[int]], Registers], month: int
) -> None:
    meters, months, regs = case
    history = History(regs, meters)
    got = history.before(np.arange(meters, dtype=np.int64), month)
    assert got.tolist() == [sum(mo < month for mo in ms) for ms in months]


def test_no_registers_at_all() -> None:
    empty = np.zeros(0, dtype=np.int64)
    regs = Registers(empty, empty, Fixed(empty, 0), Fixed(empty, 0))
    lk = History(regs, 3).lookup(P, 6)
    assert not lk.has_rp.any() and not lk.has_a.any() and not lk.has_b.any()
    assert lk.a_month.tolist() == [P, P, P]
