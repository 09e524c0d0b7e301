"""Exact half-up rounding of rational volumes and amounts on int64 arrays."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from core.billing.exact import div_half_up, format_fixed, scaled_round


def _ref(num: int, den: int, mul: int, div: int) -> int:
    value = Fraction(num * mul, den * div)
    whole = (abs(value.numerator) * 2 + value.denominator) // (2 * value.denominator)
    return -whole if value < 0 else whole


def test_float_rounding_is_wrong_and_ours_is_not() -> None:
    # the reason this module exists: binary floats round 100.125 down
    assert round(2.5 * 40.05, 2) == 100.12
    # 2.5 m³ = 2500/1000, tariff 40.05 = 4005/100, to kopecks (× 100)
    num = np.array([2500, -2500], dtype=np.int64)
    den = np.array([1000, 1000], dtype=np.int64)
    kop = scaled_round(num, den, 4005 * 100, 100)
    assert [format_fixed(k, 2) for k in kop.tolist()] == ["100.13", "-100.13"]


def test_half_way_goes_away_from_zero() -> None:
    got = div_half_up(np.array([5, -5, 4, -4, 6, -6, 15], dtype=np.int64), np.array([10] * 7))
    assert got.tolist() == [1, -1, 0, 0, 1, -1, 2]


def test_overflowing_rows_take_the_exact_path() -> None:
    # |num| × 10**6 leaves int64, the results do not
    big = np.array([2**55 + 1, 3, -(2**54) - 7], dtype=np.int64)
    den = np.array([10**5 + 3, 2, 3 * 10**4], dtype=np.int64)
    got = scaled_round(big, den, 10**6, 1)
    assert got.tolist() == [_ref(int(n), int(d), 10**6, 1) for n, d in zip(big, den, strict=True)]


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.tuples(st.integers(-(10**11), 10**11), st.integers(1, 10**12)), min_size=1, max_size=20
    ),
    tariff=st.decimals(min_value=0, max_value=10000, places=2),
    coef=st.sampled_from([Decimal(1), Decimal("1.5"), Decimal("1.25")]),
)
def test_matches_fraction_arithmetic(
    rows: list[tuple[int, int]], tariff: Decimal, coef: Decimal
) -> None:
    num = np.array([r[0] for r in rows], dtype=np.int64)
    den = np.array([r[1] for r in rows], dtype=np.int64)
    t = tariff * coef
    exponent = -int(t.as_tuple().exponent)
    mul, div = int(t.scaleb(exponent)) * 100, 10**exponent
    got = scaled_round(num, den, mul, div).tolist()
    assert got == [_ref(n, d, mul, div) for n, d in rows]
    assert scaled_round(num, den, 10**6, 1).tolist() == [_ref(n, d, 10**6, 1) for n, d in rows]
