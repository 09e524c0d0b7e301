"""Each premise's share of its house by area, S_i / S_total, for formulas 3 and 15."""

from __future__ import annotations

import numpy as np

from core.billing.exact import LIMIT, group_sum, is_wide, magnitude, wide
from core.billing.model import Int64Array


class Shares:
    """S_i and S_total × Q per premise, as they are or reduced by their gcd.

    The gcd is taken only when the plain ratio could leave int64: any (num, den) of the same
    ratio rounds to the same volume and amount, and Euclid over every premise is slow. When
    even the reduced ratio could leave int64 (|V| × S_i or S_total × Q from 2**62 on), the
    ratio is built from Python integers: exact, never refused.
    """

    def __init__(self, area: Int64Array, total: Int64Array, unit: int, reduced: bool) -> None:
        self.area, self.total, self.unit, self.reduced = area, total, unit, reduced
        self.area_max = int(area.max()) if area.size else 0
        self.total_max = int(total.max()) if total.size else 0
        self._den: Int64Array | None = None
        self._reduced: Shares | None = None

    @staticmethod
    def of(area: Int64Array, house: Int64Array, houses: int, unit: int) -> Shares:
        total = group_sum(house, area, houses)
        return Shares(area, np.maximum(total[house], 1), unit, False)

    def _reduce(self) -> Shares:
        if self._reduced is None:
            g = np.maximum(np.gcd(self.area, self.total), 1)
            self._reduced = Shares(self.area // g, self.total // g, self.unit, True)
        return self._reduced

    def _fits(self, volume: Int64Array, a_max: int, t_max: int) -> bool:
        """|V| × S_i and S_total × Q provably below 2**62 (so sums of two stay in int64)."""
        if is_wide(volume) or is_wide(self.unit):
            return False
        return magnitude(volume) * a_max < LIMIT and t_max * self.unit < LIMIT

    def share(self, volume: Int64Array, sel: Int64Array | None) -> tuple[Int64Array, Int64Array]:
        """V × S_i / S_total of premises ``sel`` (None: all) as (num, den) over the unit.

        With ``sel`` None the denominators are one array shared by every call: read only.
        """
        a, t = (self.area, self.total) if sel is None else (self.area[sel], self.total[sel])
        if volume.size == 0:
            return volume * a, t * self.unit if not is_wide(self.unit) else wide(t) * self.unit
        a_max = self.area_max if sel is None else int(a.max())
        t_max = self.total_max if sel is None else int(t.max())
        if not self._fits(volume, a_max, t_max):
            if not self.reduced:
                return self._reduce().share(volume, sel)
            den = t * self.unit if t_max * self.unit < LIMIT else wide(t) * self.unit
            return wide(volume) * a, den
        if sel is not None:
            return volume * a, t * self.unit
        if self._den is None:
            self._den = t * self.unit
        return volume * a, self._den
