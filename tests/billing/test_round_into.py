"""The in-place rounding of accrual chunks: the same integers as Fraction arithmetic."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.billing.exact import round_into


def _ref(num: int, den: int, mul: int, div: int) -> int:
    value = Fraction(num * mul, den * div)
    whole = (abs(value.numerator) * 2 + value.denominator) // (2 * value.denominator)
    return -whole if value < 0 else whole


nums = st.lists(st.integers(-(10**12), 10**12), min_size=1, max_size=30)
muls = st.sampled_from([10**6, 5093 * 100, 21040 * 100, 4005 * 100, 567 * 100, 765 * 100])
divs = st.sampled_from([1, 10, 100, 1000, 10**4])


@settings(max_examples=300, deadline=None)
@given(num=nums, den=st.integers(1, 10**9), mul=muls, div=divs)
def test_scalar_denominator(num: list[int], den: int, mul: int, div: int) -> None:
    out = np.full(len(num), -7, dtype=np.int64)
    round_into(out, np.array(num, dtype=np.int64), den, mul, div)
    assert out.tolist() == [_ref(n, den, mul, div) for n in num]


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(-(10**12), 10**12), st.integers(1, 10**12)), min_size=1, max_size=30
    ),
    mul=muls,
    div=divs,
)
def test_denominator_per_line(rows: list[tuple[int, int]], mul: int, div: int) -> None:
    num = np.array([r[0] for r in rows], dtype=np.int64)
    den = np.array([r[1] for r in rows], dtype=np.int64)
    out = np.empty(num.size, dtype=np.int64)
    round_into(out, num, den, mul, div)
    assert out.tolist() == [_ref(n, d, mul, div) for n, d in rows]


def test_halves_go_away_from_zero_on_both_paths() -> None:
    # 25/10 and -25/10 with a scalar and with an array denominator
    num = np.array([25, -25, 15, -15, 14], dtype=np.int64)
    for den in (10, np.full(5, 10, dtype=np.int64)):
        out = np.empty(5, dtype=np.int64)
        round_into(out, num, den, 1, 1)
        assert out.tolist() == [3, -3, 2, -2, 1]


def test_rows_past_int64_take_the_exact_path() -> None:
    # 2**55 × 10**6 leaves int64; the rounded result does not
    num = np.array([2**55 + 1, 3, -(2**54) - 7], dtype=np.int64)
    for den in (10**5 + 3, np.array([10**5 + 3, 2, 3 * 10**4], dtype=np.int64)):
        out = np.empty(3, dtype=np.int64)
        round_into(out, num, den, 10**6, 1)
        dens = [den] * 3 if isinstance(den, int) else den.tolist()
        want = [_ref(int(n), int(d), 10**6, 1) for n, d in zip(num, dens, strict=True)]
        assert out.tolist() == want


def test_writes_into_a_slice_of_a_column() -> None:
    column = np.zeros(6, dtype=np.int64)
    round_into(column[2:5], np.array([1500, 2500, 3499], dtype=np.int64), 1000, 1, 1)
    assert column.tolist() == [0, 0, 2, 3, 3, 0]
