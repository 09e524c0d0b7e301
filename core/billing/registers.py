"""From raw register readings to R(m), the last reading of each meter in each month.

Rollovers are unrolled: with ``capacity_digits`` d, a value lower than the previous one adds
10**d, so the difference of two unrolled values is the sum of the consecutive consumptions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.billing.model import Fixed, Int64Array, Registers


@dataclass(frozen=True)
class DecreasingReading:
    """Position (in the input order) of a reading lower than its predecessor on a meter
    that has no ``capacity_digits``; ``previous`` is the position of that predecessor."""

    position: int
    previous: int


def month_registers(
    meter: Int64Array,
    instant: Int64Array,
    month: Int64Array,
    value: Fixed,
    capacity_digits: Int64Array,
) -> Registers | DecreasingReading:
    """R(m) per meter-month from readings in any order.

    ``meter``, ``instant`` (any increasing clock, e.g. epoch seconds), ``month`` (month index of
    the local date) and ``value`` are per reading; ``capacity_digits`` is per meter (-1: none).
    Readings of one meter at one instant keep their input order. Returns the first decreasing
    reading of a meter without capacity instead of registers, so the caller can name it.
    """
    order = np.lexsort((instant, meter))
    m = meter[order]
    v = value.units[order]
    same = np.zeros(m.size, dtype=np.bool_)
    same[1:] = m[1:] == m[:-1]
    drop = np.zeros(m.size, dtype=np.bool_)
    drop[1:] = same[1:] & (v[1:] < v[:-1])
    digits = capacity_digits[m]
    bad = drop & (digits < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        return DecreasingReading(int(order[first]), int(order[first - 1]))
    capacity = np.zeros(m.size, dtype=np.int64)
    wraps = np.flatnonzero(drop)
    if wraps.size:
        sizes = [10 ** (d + value.scale) for d in digits[wraps].tolist()]
        top = max(int(v.max()), -int(v.min())) if v.size else 0
        if sum(sizes) + top >= 2**62 or v.dtype == object:
            # rollovers past int64: the unrolled values as Python integers
            capacity = capacity.astype(object)
            v = v.astype(object)
        capacity[wraps] = sizes
    # rollovers so far on this meter: a cumulative sum restarted at each meter's first reading
    total = np.cumsum(capacity)
    starts = np.flatnonzero(~same)
    before = np.repeat(total[starts] - capacity[starts], np.diff(np.append(starts, m.size)))
    unrolled = v + (total - before)
    mo = month[order]
    last = np.ones(m.size, dtype=np.bool_)
    last[:-1] = (m[1:] != m[:-1]) | (mo[1:] != mo[:-1])
    return Registers(
        meter=m[last],
        month=mo[last],
        value=Fixed(unrolled[last], value.scale),
        shown=Fixed(v[last], value.scale),
    )


def counted_registers(
    meter: Int64Array,
    month: Int64Array,
    last: Fixed,
    first: Int64Array,
    drops: Int64Array,
    capacity_digits: Int64Array,
) -> Registers:
    """R(m) per meter-month from a month summary of the readings (the database's shape).

    Per (meter, month): ``last`` is R(m), ``first`` the month's first value (units of
    ``last.scale``) and ``drops`` how many of the month's readings are lower than the reading
    just before them in the same month. A rollover happens at each drop and where a month's
    first value is below the previous month's R: every turn of the register inside a month
    counts, not only the month-end ones. Meters without capacity (-1) never roll over (the
    caller drops their decreasing values first).
    """
    step = (meter[1:] > meter[:-1]) | ((meter[1:] == meter[:-1]) & (month[1:] > month[:-1]))
    if step.all():  # the store's summaries come sorted: no sort, no copies (seconds at 1 M)
        m, mo, v, f, d = meter, month, last.units, first, drops
    else:
        order = np.lexsort((month, meter))
        m, mo = meter[order], month[order]
        v, f, d = last.units[order], first[order], drops[order]
    same = np.zeros(m.size, dtype=np.bool_)
    same[1:] = m[1:] == m[:-1]
    cross = np.zeros(m.size, dtype=np.int64)
    cross[1:] = same[1:] & (f[1:] < v[:-1])
    digits = capacity_digits[m]
    turns = np.where(digits >= 0, d + cross, 0)
    wraps = np.flatnonzero(turns)
    capacity = np.zeros(m.size, dtype=np.int64)
    if wraps.size:
        sizes = [
            t * 10 ** (g + last.scale)
            for t, g in zip(turns[wraps].tolist(), digits[wraps].tolist(), strict=True)
        ]
        top = max(int(v.max()), -int(v.min())) if v.size else 0
        if sum(sizes) + top >= 2**62 or v.dtype == object:
            capacity, v = capacity.astype(object), v.astype(object)
        capacity[wraps] = sizes
    total = np.cumsum(capacity)
    starts = np.flatnonzero(~same)
    before = np.repeat(total[starts] - capacity[starts], np.diff(np.append(starts, m.size)))
    return Registers(
        meter=m,
        month=mo,
        value=Fixed(v + (total - before), last.scale),
        shown=Fixed(v, last.scale),
    )
