"""Where each meter's registers lie, and the rule 2/3 lookups of a period, without searching.

Registers are sorted by (meter, month) with one register per meter-month, so a meter's
registers are one slice with strictly increasing months: R(P) and a are the slice's last
entries, and b is found a few steps back from a instead of by a search over all registers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.billing.exact import wide
from core.billing.model import BoolArray, Int64Array, Registers


@dataclass(frozen=True)
class Lookup:
    """Per meter in one period: R(P), the previous reading a, and the average base b.

    ``current``/``previous``/``base`` are register indices; read them only where
    ``has_rp``/``has_a``/``has_b`` hold. ``a_month`` is the month of a (P without one).
    """

    current: Int64Array
    has_rp: BoolArray
    previous: Int64Array
    has_a: BoolArray
    a_month: Int64Array
    base: Int64Array
    has_b: BoolArray


class History:
    """The register slice ``start[m]:start[m + 1]`` of every meter in ``range(meters)``."""

    def __init__(self, regs: Registers, meters: int) -> None:
        counts = np.bincount(regs.meter, minlength=meters)[:meters]
        self.count: Int64Array = counts.astype(np.int64, copy=False)
        self.start: Int64Array = np.zeros(meters + 1, dtype=np.int64)
        np.cumsum(self.count, out=self.start[1:])
        self.known = int(self.start[-1])
        # registers of unknown meters sort last and are never read; with no registers at all,
        # one zero keeps the clipped reads below valid
        some = self.known > 0
        self.month: Int64Array = regs.month if some else np.zeros(1, dtype=np.int64)
        self.value: Int64Array = regs.value.units if some else np.zeros(1, dtype=np.int64)
        self.last_month = int(regs.month.max()) if regs.month.size else 0

    def months(self, index: Int64Array) -> Int64Array:
        out: Int64Array = np.take(self.month, index, mode="clip")
        return out

    def values(self, index: Int64Array) -> Int64Array:
        out: Int64Array = np.take(self.value, index, mode="clip")
        return out

    def span(self, per_meter: bool = True) -> int:
        """At least the largest difference of two registers of one meter (0 without
        registers): every consumption billed from them is at most this, times the unit
        factor. Without ``per_meter`` the range of all registers (coarser, one pass)."""
        if self.known == 0:
            return 0
        v = self.value[: self.known]
        whole = int(v.max()) - int(v.min())
        if whole < 2**20 or not per_meter:
            return whole  # the whole range bounds every meter's
        some = self.start[:-1][self.count > 0]
        top = np.maximum.reduceat(v, some)
        bottom = np.minimum.reduceat(v, some)
        if v.dtype == object or whole >= 2**63:
            top, bottom = wide(top), wide(bottom)
        np.subtract(top, bottom, out=top)  # below 2**63 when the whole range is
        return int(top.max())

    def widen(self) -> None:
        """Holds the values as Python integers (the exact fallback of the engine)."""
        self.value = wide(self.value)

    def search(self, lo: Int64Array, hi: Int64Array, month: Int64Array | int) -> Int64Array:
        """Per row, the first register index in ``lo:hi`` whose month is ≥ ``month`` (else
        ``hi``): a binary search of every row in step, as many steps as the widest slice."""
        lo, hi = lo.copy(), hi.copy()
        width = int((hi - lo).max()) if lo.size else 0
        for _ in range(max(width, 0).bit_length()):
            mid = (lo + hi) >> 1
            go = (self.months(mid) < month) & (lo < hi)
            np.copyto(lo, mid + 1, where=go)
            np.copyto(hi, mid, where=~go)
        return lo

    def before(self, meter: Int64Array, month: int) -> Int64Array:
        """How many registers of each ``meter`` are before ``month``."""
        first = self.start[meter]
        counts: Int64Array = self.search(first, self.start[meter + 1], month) - first
        return counts

    def lookup(self, period: int, window: int) -> Lookup:
        """The lookups of every meter for ``period`` with the п.59 window of ``window`` months."""
        first = self.start[:-1]
        if self.last_month <= period:
            upto = self.count
        else:
            upto = self.before(np.arange(first.size, dtype=np.int64), period + 1)
        current = first + upto - 1
        has_rp = (upto > 0) & (self.months(current) == period)
        previous = current - has_rp
        has_a = previous >= first
        a_month = np.where(has_a, self.months(previous), period)
        # b: the first register at or after a − window; months rise by at least one per
        # register, so it is at most `window` registers before a, and usually exactly there
        bound = a_month - window
        base = np.maximum(first, previous - window)
        late = np.flatnonzero(has_a & (self.months(base) < bound))
        if late.size:
            base[late] = self.search(base[late] + 1, previous[late], bound[late])
        has_b = has_a & (base < previous)
        return Lookup(current, has_rp, previous, has_a, a_month, base, has_b)
