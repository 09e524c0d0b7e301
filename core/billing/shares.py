"""Each premise's share of its house by area, S_i / S_total, for formulas 3 and 15."""

from __future__ import annotations

import numpy as np

from core.billing.exact import LIMIT, group_sum
from core.billing.model import Int64Array
from core.errors import BillingError


class Shares:
    """S_i and S_total × Q per premise, as they are or reduced by their gcd.

    The gcd is taken only when the plain ratio could leave int64: any (num, den) of the same
    ratio rounds to the same volume and amount, and Euclid over every premise is slow.
    """

    def __init__(self, area: Int64Array, total: Int64Array, unit: int, reduced: bool) -> None:
        self.area, self.total, self.unit, self.reduced = area, total, unit, reduced
        self.area_max = int(area.max()) if area.size else 0
        self.total_max = int(total.max()) if total.size else 0
        self._den: Int64Array | None = None

    @staticmethod
    def of(area: Int64Array, house: Int64Array, houses: int, unit: int) -> Shares:
        total = group_sum(house, area, houses)
        return Shares(area, np.maximum(total[house], 1), unit, False)

    def _reduce(self) -> Shares:
        g = np.maximum(np.gcd(self.area, self.total), 1)
        return Shares(self.area // g, self.total // g, self.unit, True)

    def share(self, volume: Int64Array, sel: Int64Array | None) -> tuple[Int64Array, Int64Array]:
        """V × S_i / S_total of premises ``sel`` (None: all) as (num, den) over the unit.

        With ``sel`` None the denominators are one array shared by every call: read only.
        """
        a, t = (self.area, self.total) if sel is None else (self.area[sel], self.total[sel])
        if volume.size == 0:
            return volume * a, t * self.unit
        a_max = self.area_max if sel is None else int(a.max())
        t_max = self.total_max if sel is None else int(t.max())
        if float(np.abs(volume).max()) * a_max >= LIMIT or t_max * self.unit >= LIMIT:
            if not self.reduced:
                return self._reduce().share(volume, sel)
            raise BillingError("areas and volumes too large to bill exactly in 64-bit integers")
        if sel is not None:
            return volume * a, t * self.unit
        if self._den is None:
            self._den = t * self.unit
        return volume * a, self._den
