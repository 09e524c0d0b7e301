"""Premise meters grouped by (service, premise), sorted once per run, never per period.

A line of rules 2–3 is the sum over one group's meters of one method, and rule 4 needs the
groups without an active meter: both are runs of a sorted key, with no table of
premises × services.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.billing.lines import Lines
from core.billing.model import SERVICES, BoolArray, Int64Array, Meters

NS = len(SERVICES)


@dataclass(frozen=True)
class Groups:
    """``key`` = service × premises + owner per meter; ``order`` sorts the meters by it
    (None: already sorted); a group is a run of equal sorted keys starting at ``starts``."""

    key: Int64Array
    order: Int64Array | None
    sorted_key: Int64Array
    starts: Int64Array
    sizes: Int64Array
    group: Int64Array
    premises: int

    @staticmethod
    def of(meters: Meters, premises: int) -> Groups:
        key = meters.service * premises + meters.owner
        order = None
        if key.size > 1 and bool((key[1:] < key[:-1]).any()):
            order = np.argsort(key, kind="stable")
        sorted_key = key if order is None else key[order]
        new = np.ones(key.size, dtype=np.bool_)
        np.not_equal(sorted_key[1:], sorted_key[:-1], out=new[1:])
        starts = np.flatnonzero(new)
        sizes = np.diff(np.append(starts, key.size))
        group = np.cumsum(new) - 1
        if order is not None:
            unsorted = np.empty_like(group)
            unsorted[order] = group
            group = unsorted
        return Groups(key, order, sorted_key, starts, sizes, group, premises)

    def largest(self) -> int:
        """The most meters of one service in one premise (1 without meters)."""
        return int(self.sizes.max()) if self.sizes.size else 1

    def _sorted(self, values: BoolArray) -> BoolArray:
        return values if self.order is None else values[self.order]

    def in_order(self, values: Int64Array) -> Int64Array:
        """``values`` per meter, in group order."""
        return values if self.order is None else values[self.order]

    def active(self, active: BoolArray) -> tuple[Int64Array, dict[int, BoolArray]]:
        """Per meter, the active meters of its group (at least 1); per service, the premises
        with an active meter of it (read-only: services without meters share one array)."""
        if active.all():
            count = self.sizes
        else:
            count = np.bincount(self.group[active], minlength=self.sizes.size)
        group_key = self.sorted_key[self.starts]
        bounds = np.searchsorted(group_key, np.arange(NS + 1) * self.premises).tolist()
        none = np.zeros(self.premises, dtype=np.bool_)
        metered: dict[int, BoolArray] = {}
        for s in range(NS):
            lo, hi = bounds[s], bounds[s + 1]
            metered[s] = none
            if lo < hi:
                keys = group_key[lo:hi]
                metered[s] = np.zeros(self.premises, dtype=np.bool_)
                metered[s][keys[count[lo:hi] > 0] - s * self.premises] = True
        per_meter = count[self.group]
        np.maximum(per_meter, 1, out=per_meter)
        return per_meter, metered

    def lines(
        self,
        out: Lines,
        period: int,
        method: int,
        mask: BoolArray,
        volume: Int64Array,
        unit: int,
        individual: dict[int, Int64Array],
        *,
        ordered: bool = False,
    ) -> None:
        """One line per group of the meters in ``mask``: their summed ``volume`` (per meter,
        or in group order if ``ordered``); the lines are also added to
        ``individual[service]`` per premise where present."""
        sel = np.flatnonzero(self._sorted(mask))
        if sel.size == 0:
            return
        keys = self.sorted_key[sel]
        values = volume[sel if ordered or self.order is None else self.order[sel]]
        new = np.empty(keys.size, dtype=np.bool_)
        new[0] = True
        np.not_equal(keys[1:], keys[:-1], out=new[1:])
        if not new.all():
            starts = np.flatnonzero(new)
            keys, values = keys[starts], np.add.reduceat(values, starts)
        bounds = np.searchsorted(keys, np.arange(NS + 1) * self.premises).tolist()
        # active meters are of tariffed services only, so every service here has a tariff
        for s in range(NS):
            lo, hi = bounds[s], bounds[s + 1]
            if lo == hi:
                continue
            premise, num = out.claim(period, hi - lo, s, method, unit)
            np.subtract(keys[lo:hi], s * self.premises, out=premise)
            num[...] = values[lo:hi]
            if s in individual:
                individual[s][premise] += num
