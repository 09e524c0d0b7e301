"""House (ОДПУ) meter volumes per house, service and period, for formula 3 and СОИ."""

from __future__ import annotations

import numpy as np

from core.billing.exact import group_sum, magnitude, to_units, wide
from core.billing.model import BillingInput, BoolArray, Int64Array, Registers


def relative(regs: Registers) -> Int64Array:
    """Register values minus each meter's first value: consumptions stay small in int64."""
    v = regs.value.units
    if v.size == 0:
        return v.copy()
    first = np.ones(v.size, dtype=np.bool_)
    np.not_equal(regs.meter[1:], regs.meter[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    out: Int64Array = v - np.repeat(v[starts], np.diff(np.append(starts, v.size)))
    return out


class HouseMeters:
    """The house meters of a run, their registers in units of 1/Q keyed by (meter, month)."""

    def __init__(self, inp: BillingInput, scale: int, lcm: int, window: int) -> None:
        regs = inp.house_registers
        self.inp = inp
        self.q = to_units(relative(regs), regs.value.scale, scale, lcm)
        months = regs.month
        lo = min(int(months.min()) if months.size else inp.first_period, inp.first_period)
        hi = max(int(months.max()) if months.size else inp.last_period, inp.last_period)
        self.base = lo - window - 2
        self.span = hi - self.base + 2
        self.keys = regs.meter * self.span + (regs.month - self.base)

    def bound(self) -> int:
        """At most this V_house (units of 1/Q) for any house, service and period."""
        hm = self.inp.house_meters
        if hm.owner.size == 0:
            return 0
        per_house = int(np.bincount(hm.owner * 8 + hm.service).max())
        return per_house * 2 * magnitude(self.q)

    def widen(self) -> None:
        self.q = wide(self.q)

    def _find(self, meter: Int64Array, month: int) -> Int64Array:
        """Index of each meter's register for exactly ``month``, or -1."""
        keys = self.keys
        q = meter * self.span + (month - self.base)
        i = np.searchsorted(keys, q, side="left")
        ok = i < keys.size
        ic = np.minimum(i, max(keys.size - 1, 0))
        ok &= keys[ic] == q if keys.size else False
        return np.where(ok, ic, -1)

    def volumes(self, service: int, period: int) -> tuple[BoolArray, Int64Array]:
        """Per house: whether all its meters of ``service`` have R(P) and R(P−1), and V_house."""
        nh = len(self.inp.houses.ids)
        hm = self.inp.house_meters
        sel = np.flatnonzero(hm.service == service)
        if sel.size == 0:
            return np.zeros(nh, dtype=np.bool_), np.zeros(nh, dtype=np.int64)
        cur = self._find(sel, period)
        prev = self._find(sel, period - 1)
        ok = (cur >= 0) & (prev >= 0)
        owner = hm.owner[sel]
        count = np.bincount(owner, minlength=nh)
        good = np.bincount(owner[ok], minlength=nh)
        padded = np.append(self.q, 0)  # index -1 reads the padding, masked by ok
        diff = np.where(ok, padded[cur] - padded[prev], 0)
        volume = group_sum(owner, diff, nh)
        return (count > 0) & (good == count), volume
