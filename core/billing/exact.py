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


def scaled_round(num: Int64Array, den: Int64Array, mul: int, div: int) -> Int64Array:
    """round(num × mul / (den × div)) half away from zero, exactly, per element.

    ``den`` > 0, ``mul`` ≥ 0, ``div`` > 0. Rows whose products could leave int64 are computed
    with Python integers (rare: huge volumes or many decimals).
    """
    g = math.gcd(mul, div)
    mul, div = mul // g, div // g
    num = np.asarray(num, dtype=np.int64)
    den = np.broadcast_to(np.asarray(den, dtype=np.int64), num.shape)
    fast = (np.abs(num) < _SAFE // max(mul, 1)) & (den < _SAFE // div)
    out = np.zeros(num.shape, dtype=np.int64)
    if fast.all():
        return div_half_up(num * mul, den * div)
    out[fast] = div_half_up(num[fast] * mul, den[fast] * div)
    for i in np.flatnonzero(~fast).tolist():
        value = _int_half_up(int(num[i]) * mul, int(den[i]) * div)
        if abs(value) >= 2**63:
            raise BillingError(f"a rounded volume or amount ({value}) does not fit 64 bits")
        out[i] = value
    return out


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
    if float(np.abs(values).sum(dtype=np.float64)) < 2.0**52:
        sums = np.bincount(keys, weights=values.astype(np.float64), minlength=size)
        return sums.astype(np.int64)
    out = np.zeros(size, dtype=np.int64)
    np.add.at(out, keys, values)
    return out
