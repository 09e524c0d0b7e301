"""Exact rounding of rational volumes and amounts on int64 arrays, with an exact fallback.

Binary floats get 2.5 × 40.05 = 100.125 wrong; here every amount is an integer ratio rounded
half away from zero, in int64 where the operands provably fit and in Python integers otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal

import numpy as np

from core.billing.model import Int64Array
from core.errors import BillingError

#: operands below this bound keep 2·|a·b| + d inside int64
_SAFE = 2**61
#: volumes in units of 1/Q stay below this, so a difference or sum of two still fits int64
LIMIT = 2**62


def lcm_of(values: Iterable[int]) -> int:
    """Least common multiple of positive integers (1 for none)."""
    result = 1
    for v in values:
        result = math.lcm(result, v)
    return result


def div_half_up(num: Int64Array, den: Int64Array) -> Int64Array:
    """round(num / den), halves away from zero; den > 0, |num| and den below 2**61."""
    q = (2 * np.abs(num) + den) // (2 * den)
    return np.where(num < 0, -q, q)


def _int_half_up(num: int, den: int) -> int:
    q = (2 * abs(num) + den) // (2 * den)
    return -q if num < 0 else q


def is_wide(values: object) -> bool:
    """Whether ``values`` is an array of Python integers (the exact fallback) or an integer
    past int64."""
    if isinstance(values, int):
        return not -LIMIT < values < LIMIT
    return isinstance(values, np.ndarray) and values.dtype == np.dtype(object)


def wide(values: Int64Array) -> Int64Array:
    """The same integers as an object array of Python integers: exact at any size."""
    out: Int64Array = np.asarray(values).astype(object)
    return out


def narrow(values: Int64Array) -> Int64Array:
    """Integers as int64 when they all fit, else as they are (an object array)."""
    if values.dtype != object or values.size == 0:
        return values if values.size else values.astype(np.int64)
    lo, hi = int(values.min()), int(values.max())
    if -(2**63) < lo and hi < 2**63:
        out: Int64Array = values.astype(np.int64)
        return out
    return values


def scaled_round(num: Int64Array, den: Int64Array | int, mul: int, div: int) -> Int64Array:
    """round(num × mul / (den × div)) half away from zero, exactly, per element.

    ``den`` > 0, ``mul`` ≥ 0, ``div`` > 0. Rows whose products could leave int64 are computed
    with Python integers (rare: huge volumes or many decimals); the result is int64 when every
    rounded value fits, else an object array of Python integers.
    """
    g = math.gcd(mul, div)
    mul, div = mul // g, div // g
    num = np.asarray(num)
    if num.dtype != object:
        num = num.astype(np.int64, copy=False)
    den_arr = np.asarray(den, dtype=object if is_wide(den) else None)
    if den_arr.dtype != object:
        den_arr = den_arr.astype(np.int64, copy=False)
    dens = np.broadcast_to(den_arr, num.shape)
    if num.dtype != object and dens.dtype != object:
        fast = (np.abs(num) < _SAFE // max(mul, 1)) & (dens < _SAFE // div)
        if fast.all():
            return div_half_up(num * mul, dens * div)
    else:
        fast = np.zeros(num.shape, dtype=np.bool_)
    out = np.zeros(num.shape, dtype=object)
    if fast.any():
        out[fast] = div_half_up(num[fast].astype(np.int64) * mul, dens[fast].astype(np.int64) * div)
    slow = np.flatnonzero(~fast)
    n_list, d_list = num[slow].tolist(), dens[slow].tolist()
    out[slow] = [_int_half_up(n * mul, d * div) for n, d in zip(n_list, d_list, strict=True)]
    return narrow(out)


def round_into(
    out: Int64Array,
    num: Int64Array,
    den: Int64Array | int,
    mul: int,
    div: int,
    bounds: tuple[int, int] | None = None,
) -> None:
    """Writes ``scaled_round(num, den, mul, div)`` into ``out`` with as few passes as possible.

    Most lines share one denominator: then the quotient is three in-place passes with a
    scalar divisor instead of a dozen with an array one. ``bounds`` is (min, max) of ``num``
    when the caller knows it.
    """
    if num.size == 0:
        return
    if is_wide(num) or is_wide(den):
        rounded = scaled_round(num, den, mul, div)
        if rounded.dtype == object:
            raise BillingError(
                f"a rounded volume or amount ({int(np.abs(rounded).max())} hundredths or "
                "millionths) is past 9.2·10**18"
            )
        out[...] = rounded
        return
    if isinstance(den, int):
        g = math.gcd(mul, den * div)
        m, whole = mul // g, den * div // g
        fits = whole < _SAFE
    else:
        g = math.gcd(mul, div)
        m, d = mul // g, div // g
        whole = 0
        fits = int(den.max()) < _SAFE // d
    lo, hi = (int(num.min()), int(num.max())) if bounds is None else bounds
    if not (fits and max(-lo, hi) < _SAFE // max(m, 1)):
        rounded = scaled_round(num, den, mul, div)
        if rounded.dtype == object:
            raise BillingError(
                f"a rounded volume or amount ({int(np.abs(rounded).max())} hundredths or "
                "millionths) is past 9.2·10**18"
            )
        out[...] = rounded
        return
    # (2·|n|·m + d) // (2·d), negated back for n < 0: round half away from zero
    if lo < 0:
        np.abs(num, out=out)
        out *= 2 * m
    else:
        np.multiply(num, 2 * m, out=out)
    if isinstance(den, int):
        out += whole
        np.floor_divide(out, 2 * whole, out=out)
    else:
        full = den * d if d != 1 else den
        out += full
        np.floor_divide(out, full * 2, out=out)
    if lo < 0:
        np.negative(out, out=out, where=num < 0)


def to_units(units: Int64Array, scale: int, target: int, lcm: int) -> Int64Array:
    """Fixed values of ``scale`` in units of 1/(10**target × lcm): int64 when every value
    stays below :data:`LIMIT`, else exact Python integers (an object array)."""
    factor = 10 ** (target - scale) * lcm
    if units.size == 0:
        return np.zeros(0, dtype=np.int64)
    if units.dtype != object and magnitude(units) < LIMIT // factor:
        out: Int64Array = units * factor
        return out
    exact: Int64Array = wide(units) * factor
    return exact


def magnitude(values: Int64Array) -> int:
    """The largest absolute value of an integer array (0 when empty), as a Python integer."""
    if values.size == 0:
        return 0
    return max(abs(int(values.min())), abs(int(values.max())))


def decimal_parts(value: Decimal) -> tuple[int, int]:
    """(integer, power of ten) with value = integer / 10**power and power ≥ 0."""
    exponent = int(value.as_tuple().exponent)
    power = max(0, -exponent)
    return int(value.scaleb(power)), power


def format_fixed(units: int, scale: int) -> str:
    """``units / 10**scale`` as a plain decimal string with exactly ``scale`` places."""
    sign = "-" if units < 0 else ""
    digits = str(abs(units)).rjust(scale + 1, "0")
    if scale == 0:
        return sign + digits
    return f"{sign}{digits[:-scale]}.{digits[-scale:]}"


def group_sum(keys: Int64Array, values: Int64Array, size: int) -> Int64Array:
    """Exact int64 sums of ``values`` by ``keys`` in ``range(size)``.

    float64 holds integers exactly below 2**53, so bincount is exact when the sum of absolute
    values stays below that; otherwise the slower integer ``np.add.at`` is used.
    """
    if values.size == 0:
        return np.zeros(size, dtype=np.int64)
    if values.dtype == object:
        wide_out = np.zeros(size, dtype=object)
        np.add.at(wide_out, keys, values)
        return wide_out
    if float(np.abs(values).sum(dtype=np.float64)) < 2.0**52:
        sums = np.bincount(keys, weights=values.astype(np.float64), minlength=size)
        return sums.astype(np.int64)
    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, keys, values)
    return out
