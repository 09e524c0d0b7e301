"""A proof, from the data of one run, that every intermediate value of the engine fits int64.

All volumes of the engine are integers in units of 1/Q. Each bound below holds for every
premise, meter, house and period of the run (Python integers: the bound itself never wraps):

- ``consumption`` C = (largest register span of one meter) × factor: a meter line, and an
  average (a difference divided by a − b ≥ 1), is at most C;
- ``normative`` E_n = (most people) × (largest normative), divided by m ≥ 1 for a split one;
- ``estimate`` E = max(C, E_n): the volume of one meter in one period;
- ``reversal`` R = (most prior estimates of one meter) × (largest prior) + periods × E: the
  volume a recalculation line reverses;
- ``line`` L = G × (C + E + R) + E_n, G the most meters of one service in one premise: any
  premise line of rules 2–4, and the individual volume of one premise and service;
- ``house`` V_h = (most house meters of one house and service) × 2 × (largest relative
  register): V_house (a difference of two relative registers is below twice the largest);
- ``soi`` D = V_h + H × L + cap, H the most premises of one house: V_ind, the excess, the
  distributed volume and what the operator pays;
- ``heating`` A × N_h: area × heating normative.

When all of them, 2·L (sewage = cold + hot) and Q are below 2**62, every sum or difference of
two of them is below 2**63: the int64 path cannot wrap. Otherwise the engine switches to
Python integers. Products by area shares are checked where they are made
(:class:`core.billing.shares.Shares`) and rounding checks its own products
(:func:`core.billing.exact.round_into`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from core.billing.exact import LIMIT, magnitude
from core.billing.model import HEATING

if TYPE_CHECKING:  # pragma: no cover
    from core.billing.engine import _Run


@dataclass(frozen=True)
class Bounds:
    """The largest magnitudes of one run (see the module docstring) and whether they fit."""

    consumption: int
    normative: int
    reversal: int
    line: int
    house: int
    soi: int
    heating: int
    unit: int
    #: some input already holds Python integers (a value past int64 when it was read)
    objects: bool = False

    @property
    def largest(self) -> int:
        return max(
            self.consumption,
            self.normative,
            self.reversal,
            self.line * 2,
            self.house,
            self.soi,
            self.heating,
            self.unit,
        )

    @property
    def fits(self) -> bool:
        """Every intermediate value, and any sum or difference of two, fits int64."""
        return self.largest < LIMIT and not self.objects

    @staticmethod
    def of(run: _Run) -> Bounds:
        """The bounds of a run: first from the range of all registers (one pass), and only
        if those do not fit from each meter's own range."""
        coarse = Bounds._of(run, run.history.span(per_meter=False))
        return coarse if coarse.fits else Bounds._of(run, run.history.span())

    @staticmethod
    def _of(run: _Run, span: int) -> Bounds:
        inp = run.inp
        c = span * run.factor
        en = magnitude(run.people) * run.norms.largest()
        e = max(c, en)
        prior = inp.prior_estimates
        per_meter = int(np.bincount(prior.meter).max()) if prior.meter.size else 0
        periods = inp.last_period - inp.first_period + 1
        r = per_meter * magnitude(run.prior_units) + periods * e
        line = run.groups.largest() * (c + e + r) + en
        house = run.house_meters.bound()
        per_house = int(np.bincount(inp.premises.house).max()) if inp.premises.house.size else 0
        cap = max((magnitude(x) for x in run.caps.values()), default=0)
        soi = house + per_house * line + cap
        heating = magnitude(inp.premises.area.units) * run.norms.largest((HEATING,))
        arrays = [
            run.history.value,
            run.house_meters.q,
            run.people,
            run.prior_units,
            inp.premises.area.units,
            *run.norms.q.values(),
            *run.caps.values(),
        ]
        objects = any(a.dtype == object for a in arrays)
        return Bounds(c, en, r, line, house, soi, heating, run.unit, objects)
