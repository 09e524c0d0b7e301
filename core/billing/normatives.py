"""Normatives per service and premise in units of 1/Q, with the sewage fallback of the spec."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.billing.exact import magnitude, to_units, wide
from core.billing.model import CW, HEATING, HW, SEWAGE, BoolArray, Int64Array, Premises


@dataclass(frozen=True)
class Normatives:
    """Per service with a normative: each premise's value (units of 1/Q) and whether it has
    one. A sewage normative missing falls back to cold + hot water."""

    q: dict[int, Int64Array]
    ok: dict[int, BoolArray]

    @staticmethod
    def of(p: Premises, scale: int, lcm: int) -> Normatives:
        q: dict[int, Int64Array] = {}
        ok: dict[int, BoolArray] = {}
        for s, fixed in p.normatives.items():
            extra = p.area.scale if s == HEATING else 0
            q[s] = to_units(fixed.units, fixed.scale + extra, scale, lcm)
            ok[s] = np.asarray(p.normative_given[s], dtype=np.bool_)
        if CW in q and HW in q:
            fallback = ok[CW] & ok[HW]
            own = q.get(SEWAGE)
            if own is not None:
                fallback &= ~ok[SEWAGE]
            q[SEWAGE] = np.where(fallback, q[CW] + q[HW], 0 if own is None else own)
            ok[SEWAGE] = fallback if own is None else ok[SEWAGE] | fallback
        return Normatives(q, ok)

    def largest(self, services: tuple[int, ...] | None = None) -> int:
        """The largest normative (units of 1/Q) of ``services`` (default: all but heating)."""
        keys = [s for s in self.q if (s != HEATING if services is None else s in services)]
        return max((magnitude(self.q[s]) for s in keys), default=0)

    def widen(self) -> None:
        for s in list(self.q):
            self.q[s] = wide(self.q[s])

    def given(self, s: int, premise: Int64Array) -> BoolArray:
        """Whether each of ``premise`` has a normative of service ``s``."""
        if s not in self.ok:
            return np.zeros(premise.size, dtype=np.bool_)
        out: BoolArray = self.ok[s][premise]
        return out

    def of_meters(self, service: Int64Array, premise: Int64Array) -> tuple[Int64Array, BoolArray]:
        """The normative of each (service, premise) row, and which rows have none."""
        wide_q = any(q.dtype == object for q in self.q.values())
        values = np.zeros(service.size, dtype=object if wide_q else np.int64)
        missing = np.ones(service.size, dtype=np.bool_)
        for s in self.q:
            rows = np.flatnonzero(service == s)
            if rows.size:
                values[rows] = self.q[s][premise[rows]]
                missing[rows] = ~self.ok[s][premise[rows]]
        return values, missing
