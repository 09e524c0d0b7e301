"""The billing rules of spec/billing-case.md, vectorized over premises and meters.

Loops run over periods, services and methods only. Every volume is exact: base volumes are
integers in units of 1/Q (Q = 10**scale × the lcm of every divisor the rules use), and lines
shared by area are the ratio (V × S_i) / (Q × S_total).

Representation: before anything is computed, :class:`core.billing.bounds.Bounds` bounds the
magnitude of every intermediate value from the data (register spans, normatives, people,
areas, meters per premise and house, periods). When the bound is below 2**62 the run works in
int64 (sums and differences of two such values still fit); otherwise every base array is
converted to Python integers (numpy object arrays) and the same code runs exactly at any size.
Products by area (formulas 3 and 15) are checked per call and built from Python integers when
they could leave int64. Nothing is refused for size and nothing is ever a float.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.billing.bounds import Bounds
from core.billing.exact import decimal_parts, group_sum, lcm_of, magnitude, narrow, to_units, wide
from core.billing.groups import Groups
from core.billing.history import History, Lookup
from core.billing.houses import HouseMeters
from core.billing.lines import Lines
from core.billing.model import (
    CW,
    EL,
    GAS,
    HEATING,
    HW,
    M_AVERAGE,
    M_HOUSE_AREA,
    M_METER,
    M_NORM_AREA,
    M_NORMATIVE,
    M_RECALC,
    M_SOI_HOUSE,
    M_SOI_NORM,
    M_WATER_SUM,
    SERVICES,
    SEWAGE,
    SOI_SERVICES,
    WITH_COEFFICIENT,
    BillingInput,
    BillingResult,
    BoolArray,
    HouseRows,
    Int64Array,
    MeterLines,
)
from core.billing.normatives import Normatives
from core.billing.shares import Shares
from core.billing.unbilled import (
    HOUSE_SOI,
    METER_NORMATIVE,
    NO_NORMATIVE,
    WATER_SUM,
    UnbilledLog,
    unbilled_messages,
)
from core.errors import BillingError

NS = len(SERVICES)
_I64 = np.int64


def _unit_scale(inp: BillingInput) -> int:
    p = inp.premises
    scales = [inp.registers.value.scale, inp.house_registers.value.scale]
    scales.append(inp.prior_estimates.volume.scale)
    for s, fixed in p.normatives.items():
        scales.append(fixed.scale + (p.area.scale if s == HEATING else 0))
    for n in inp.soi_normatives.values():
        scales.append(decimal_parts(n)[1] + inp.houses.common_area.scale)
    return max(scales)


@dataclass
class _Meters:
    """Rules 2–3 of one period per premise meter: the method masks and the volumes.

    ``reversed`` (estimated periods before this one) is the run's own array: read it before
    :meth:`_Run.carry` moves the run on.
    """

    active: BoolArray
    m_of: Int64Array
    metered: dict[int, BoolArray]
    lookup: Lookup
    avg_ok: BoolArray
    k: Int64Array
    by_meter: BoolArray
    by_average: BoolArray
    by_norm: BoolArray
    recalc: BoolArray
    volume: Int64Array
    recalc_volume: Int64Array
    reversed: Int64Array
    rows: tuple[Int64Array, Int64Array, Int64Array, Int64Array]
    #: meters rule 3 needs a normative for and has none: not billed this period
    lost: Int64Array


class _Run:
    """One billing run: what every period shares, and the lines and rows billed so far."""

    def __init__(self, inp: BillingInput) -> None:
        st = inp.settings
        self.inp, self.p, self.mt = inp, inp.premises, inp.meters
        self.n_premises = len(inp.premises.ids)
        self.n_houses = len(inp.houses.ids)
        self.n_meters = len(inp.meters.ids)
        if inp.last_period < inp.first_period:
            raise BillingError("period is before start_period")
        self.window, self.min_months, self.max_periods = (
            st.average_window_months,
            st.average_min_months,
            st.average_max_periods,
        )
        if self.window < 1 or self.min_months < 0 or self.max_periods < 0:
            raise BillingError("settings: average months must be positive")
        self.tariffed = {s for s in inp.tariffs if 0 <= s < NS}
        self.billed_meter = np.zeros(NS, dtype=np.bool_)
        for s in self.tariffed:
            self.billed_meter[s] = s != HEATING
        self.groups = Groups.of(self.mt, self.n_premises)
        self.meter_billed = self.billed_meter[self.mt.service]

        # the unit 1/Q: every divisor of the rules (a − b for averages, m for split normatives)
        divisors = [*range(max(1, self.min_months), self.window + 1)]
        self.scale = _unit_scale(inp)
        prior_div = inp.prior_estimates.divisor
        distinct = {int(d) for d in np.unique(prior_div).tolist()} if prior_div.size else set()
        self.lcm = lcm_of([*divisors, *range(1, self.groups.largest() + 1), *distinct])
        self.unit = 10**self.scale * self.lcm

        # premise registers stay as read: a consumption is a difference times this factor
        self.history = History(inp.registers, self.n_meters)
        self.factor = 10 ** (self.scale - inp.registers.value.scale) * self.lcm
        self.house_meters = HouseMeters(inp, self.scale, self.lcm, self.window)
        self.norms = Normatives.of(self.p, self.scale, self.lcm)
        self.people = np.where(self.p.residents > 0, self.p.residents, self.p.owners)
        self.caps = self._caps()
        self.shares = Shares.of(self.p.area.units, self.p.house, self.n_houses, self.unit)
        self.pidx = np.arange(self.n_premises, dtype=_I64)
        self.prior_units = self._prior_units()
        self.bounds = Bounds.of(self)
        self.wide = not self.bounds.fits
        self.dt: type = object if self.wide else _I64
        if self.wide:
            self.history.widen()
            self.house_meters.widen()
            self.norms.widen()
            self.people = wide(self.people)
            self.caps = {s: wide(c) for s, c in self.caps.items()}
            self.prior_units = wide(self.prior_units)

        # a period has at most a line per meter and method (rules 2–3, recalculation) and per
        # premise and rule 4 service, sewage, heating and СОИ service
        self.lines = Lines(2 * self.n_meters + 9 * self.n_premises, wide=self.wide)
        self.detail: list[Callable[[], tuple[Int64Array, ...]]] = []
        self.house_chunks: list[tuple[Int64Array, ...]] = []
        self.house_volume: dict[tuple[int, int, int], int] = {}
        self.individual_of = {CW, HW} if SEWAGE in self.tariffed else set()
        self.individual_of |= {s for s in inp.soi_normatives if s in self.tariffed}
        self.accum, self.est_count = self._prior()
        self.unbilled = UnbilledLog(self.n_premises)

    def _caps(self) -> dict[int, Int64Array]:
        """Per СОИ service, the cap N_soi × common area of each house in units of 1/Q."""
        ca = self.inp.houses.common_area
        caps: dict[int, Int64Array] = {}
        for s, normative in self.inp.soi_normatives.items():
            n_int, n_pow = decimal_parts(normative)
            units = ca.units if magnitude(ca.units) * abs(n_int) < 2**62 else wide(ca.units)
            caps[s] = to_units(units * n_int, ca.scale + n_pow, self.scale, self.lcm)
        return caps

    def _prior_units(self) -> Int64Array:
        """Prior estimates in units of 1/Q: exact, as every divisor divides the lcm."""
        prior = self.inp.prior_estimates
        units = to_units(prior.volume.units, prior.volume.scale, self.scale, self.lcm)
        if prior.divisor.size == 0:
            return units
        exact: Int64Array = units // prior.divisor
        return exact

    def _prior(self) -> tuple[Int64Array, Int64Array]:
        """Per meter, the volume estimated since its last reading before the run, and over
        how many periods (the reversal a reading brings)."""
        inp, history = self.inp, self.history
        accum: Int64Array = np.zeros(self.n_meters, dtype=self.dt)
        est_count = np.zeros(self.n_meters, dtype=_I64)
        prior = inp.prior_estimates
        if prior.meter.size:
            pq = self.prior_units
            before = history.before(prior.meter, inp.first_period)
            a0 = history.months(history.start[prior.meter] + before - 1)
            take = ((before == 0) | (prior.month > a0)) & (prior.month < inp.first_period)
            # few rows: scattered adds, not a pass over every meter
            np.add.at(accum, prior.meter[take], pq[take])
            np.add.at(est_count, prior.meter[take], 1)
        return accum, est_count

    def meters(self, period: int) -> _Meters:
        """Rules 2–3: each active meter by reading, by average or by normative."""
        mt, history = self.mt, self.history
        self.unbilled.next_period()
        active = (mt.installed < period) & self.meter_billed
        m_of, metered = self.groups.active(active)
        # rule 2/3 lookups: R(P), the previous reading month a, the average base b
        lk = history.lookup(period, self.window)
        ab = np.where(lk.has_b, lk.a_month - history.months(lk.base), 1)
        avg_ok = lk.has_b & (ab >= self.min_months)
        k = period - lk.a_month
        by_meter = active & lk.has_rp & lk.has_a
        by_average = active & ~lk.has_rp & lk.has_a & avg_ok & (k <= self.max_periods)
        by_norm = active & ~by_meter & ~by_average
        vol = history.values(lk.current)
        vol -= history.values(lk.previous)
        vol *= self.factor
        np.multiply(vol, by_meter, out=vol)
        avg = np.flatnonzero(by_average)
        diff = history.values(lk.previous[avg]) - history.values(lk.base[avg])
        vol[avg] = diff * self.factor // ab[avg]
        norm = np.flatnonzero(by_norm)
        owner = mt.owner[norm]
        normative, need = self.norms.of_meters(mt.service[norm], owner)
        lost = norm[need]
        if lost.size:
            self.unbilled.add(period, mt.owner[lost], mt.service[lost], METER_NORMATIVE, lost)
            by_norm[lost] = False
            norm, owner, normative = norm[~need], owner[~need], normative[~need]
        vol[norm] = self.people[owner] * normative // m_of[norm]
        recalc = by_meter & (self.est_count > 0)
        rows = (np.flatnonzero(by_meter), avg, norm, np.flatnonzero(recalc))
        return _Meters(
            active,
            m_of,
            metered,
            lk,
            avg_ok,
            k,
            by_meter,
            by_average,
            by_norm,
            recalc,
            vol,
            -self.accum,
            self.est_count,
            rows,
            lost,
        )

    def meter_lines(self, period: int, m: _Meters) -> dict[int, Int64Array]:
        """Lines of rules 2–3 and recalculation; returns the individual volume per premise of
        the services that rule 5 and СОИ need."""
        individual: dict[int, Int64Array] = {
            s: np.zeros(self.n_premises, dtype=self.dt) for s in self.individual_of
        }
        groups, lines, unit = self.groups, self.lines, self.unit
        in_order = groups.in_order(m.volume)
        for method, mask in (
            (M_METER, m.by_meter),
            (M_AVERAGE, m.by_average),
            (M_NORMATIVE, m.by_norm),
        ):
            groups.lines(lines, period, method, mask, in_order, unit, individual, ordered=True)
        groups.lines(lines, period, M_RECALC, m.recalc, m.recalc_volume, unit, individual)
        return individual

    def carry(self, m: _Meters) -> None:
        """Estimates of this period add up until a reading reverses them."""
        has_rp = m.lookup.has_rp
        estimated = m.active & ~has_rp
        estimated[m.lost] = False  # nothing billed: nothing for a reading to reverse
        np.add(self.accum, m.volume, out=self.accum, where=estimated)
        self.accum[has_rp] = 0
        self.est_count += estimated
        self.est_count[has_rp] = 0

    def normative(
        self, period: int, metered: dict[int, BoolArray], individual: dict[int, Int64Array]
    ) -> None:
        """Rule 4: residential premises without an active meter of the service."""
        p = self.p
        for s in sorted(self.tariffed & {CW, HW, EL, GAS}):
            sel = np.flatnonzero(~metered[s] & p.residential)
            given = self.norms.given(s, sel)
            if not given.all():
                self.unbilled.add(period, sel[~given], s, NO_NORMATIVE)
                sel = sel[given]
            if sel.size == 0:
                continue
            v = self.people[sel] * self.norms.q[s][sel]
            increased = p.meter_possible[sel] if s in WITH_COEFFICIENT else False
            self.lines.add(period, sel, s, M_NORMATIVE, v, self.unit, increased)
            if s in individual:
                individual[s][sel] += v

    def sewage(self, period: int, metered: BoolArray, individual: dict[int, Int64Array]) -> None:
        """Rule 5: sewage without an active sewage meter is cold + hot water."""
        if SEWAGE not in self.tariffed:
            return
        lost = self.unbilled.lost_any((CW, HW))
        if not metered.any() and lost is None:
            water = individual[CW] + individual[HW]
            self.lines.add(period, self.pidx, SEWAGE, M_WATER_SUM, water, self.unit)
        else:
            by_water = ~metered
            if lost is not None:
                self.unbilled.add(period, np.flatnonzero(by_water & lost), SEWAGE, WATER_SUM)
                by_water &= ~lost
            sel = np.flatnonzero(by_water)
            water = individual[CW][sel] + individual[HW][sel]
            self.lines.add(period, sel, SEWAGE, M_WATER_SUM, water, self.unit)

    def heating(self, period: int) -> None:
        """Heating: formula 3 by the house meter, else formula 2 by area."""
        if HEATING not in self.tariffed:
            return
        p, pidx, unit = self.p, self.pidx, self.unit
        data, v_house = self.house_meters.volumes(HEATING, period)
        for hi in np.flatnonzero(data).tolist():
            self.house_volume[(period, hi, HEATING)] = int(v_house[hi])
        measured = data[p.house]
        sel = pidx[measured]
        num, den = self.shares.share(v_house[p.house[sel]], sel)
        self.lines.add(period, sel, HEATING, M_HOUSE_AREA, num, den)
        sel = pidx[~measured]
        given = self.norms.given(HEATING, sel)
        if not given.all():
            self.unbilled.add(period, sel[~given], HEATING, NO_NORMATIVE)
            sel = sel[given]
        if sel.size:
            by_area = p.area.units[sel] * self.norms.q[HEATING][sel]
            self.lines.add(period, sel, HEATING, M_NORM_AREA, by_area, unit)

    def soi(self, period: int, individual: dict[int, Int64Array]) -> None:
        """СОИ per house and service: the house meter's excess over the individual volumes
        (capped by the normative unless the owners decided otherwise), else the normative."""
        h, p, nh = self.inp.houses, self.p, self.n_houses
        for s in [s for s in self.inp.soi_normatives if s in self.tariffed]:
            if s not in SOI_SERVICES:
                raise BillingError(f"soi_normatives: no СОИ lines for {SERVICES[s]}")
            needs = ~h.common_area_given
            if needs.any():
                raise BillingError(
                    f"house {h.ids[int(np.flatnonzero(needs)[0])]}: common_area missing"
                )
            cap = self.caps[s]
            data, v_house = self.house_meters.volumes(s, period)
            v_ind = group_sum(p.house, individual[s], nh)
            excess = np.maximum(v_house - v_ind, 0)
            dist = np.where(h.distribute_excess, excess, np.minimum(excess, cap))
            dist = np.where(data, dist, cap)
            operator = np.where(data, excess - dist, 0)
            keep = self._soi_houses(period, s, data)
            chunk = (
                np.full(nh, period, dtype=_I64),
                np.arange(nh, dtype=_I64),
                np.full(nh, s, dtype=_I64),
                data.astype(_I64),
                np.where(data, v_house, 0),
                v_ind,
                np.where(data, excess, 0),
                dist,
                operator,
            )
            self.house_chunks.append(chunk if keep is None else tuple(c[keep] for c in chunk))
            num, den = self.shares.share(dist[p.house], None)
            measured = data[p.house]
            if keep is None and (measured.all() or not measured.any()):
                method = M_SOI_HOUSE if measured.all() else M_SOI_NORM
                self.lines.add(period, self.pidx, s, method, num, den)
                continue
            billed = np.ones_like(measured) if keep is None else keep[p.house]
            for method, mask in ((M_SOI_HOUSE, measured), (M_SOI_NORM, ~measured)):
                sel = np.flatnonzero(mask & billed)
                self.lines.add(period, sel, s, method, num[sel], den[sel])

    def _soi_houses(self, period: int, s: int, data: BoolArray) -> BoolArray | None:
        """Houses whose СОИ of ``s`` can be billed (None: all): a house measured by its meter
        cannot when a premise's individual volume of ``s`` is not billed (its excess would
        take that volume in)."""
        lost = self.unbilled.lost_any((s,))
        if lost is None:
            return None
        p = self.p
        skip = data & (np.bincount(p.house[lost], minlength=self.n_houses) > 0)
        if not skip.any():
            return None
        self.unbilled.add(period, np.flatnonzero(skip[p.house]), s, HOUSE_SOI)
        keep: BoolArray = ~skip
        return keep

    def result(self) -> BillingResult:
        inp = self.inp
        return BillingResult(
            input=inp,
            unit=self.unit,
            accruals=self.lines.accruals(inp.tariffs, inp.settings.increasing_coefficient),
            houses=_house_rows(self.house_chunks),
            meter_details=functools.partial(_meter_lines, self.detail),
            house_meter_volume=self.house_volume,
            unbilled=self.unbilled.result(),
        )


def bill(inp: BillingInput, *, partial: bool = False) -> BillingResult:
    """Bills every period from ``first_period`` to ``last_period`` (see ``core.billing``).

    A premise service that needs a normative the input lacks (and what depends on it: sewage
    as water, the СОИ of its house measured by a meter) cannot be billed: a BillingError names
    them all, or with ``partial`` everyone else is billed and ``result.unbilled`` holds them
    (:func:`core.billing.unbilled.unbilled_messages` words them)."""
    run = _Run(inp)
    for period in range(inp.first_period, inp.last_period + 1):
        m = run.meters(period)
        individual = run.meter_lines(period, m)
        if period < inp.last_period:
            m.reversed = m.reversed.copy()  # carry moves the run's own array on
            run.carry(m)
        # what each meter contributed: built only if explanations or estimates ask for it
        run.detail.append(functools.partial(_detail, period, m))
        run.normative(period, m.metered, individual)
        run.sewage(period, m.metered[SEWAGE], individual)
        run.heating(period)
        run.soi(period, individual)
    result = run.result()
    if not partial and result.unbilled.period.size:
        raise BillingError("cannot bill: " + "; ".join(unbilled_messages(result)))
    return result


def _detail(period: int, m: _Meters) -> tuple[Int64Array, ...]:
    """The meter lines of one period: by reading, average, normative, then recalculation."""
    rows, lk = m.rows, m.lookup
    sizes = [r.size for r in rows]
    sel = np.concatenate(rows)
    volume = m.volume[sel]
    volume[sum(sizes[:3]) :] = m.recalc_volume[rows[3]]
    methods = np.array([M_METER, M_AVERAGE, M_NORMATIVE, M_RECALC], dtype=_I64)
    indices = []
    for index, found in ((lk.current, lk.has_rp), (lk.previous, lk.has_a), (lk.base, m.avg_ok)):
        column = index[sel]
        np.copyto(column, -1, where=~found[sel])
        indices.append(column)
    return (
        np.full(sel.size, period, dtype=_I64),
        sel,
        np.repeat(methods, sizes),
        volume,
        *indices,
        m.k[sel],
        m.m_of[sel],
        m.reversed[sel],
    )


def _meter_lines(details: list[Callable[[], tuple[Int64Array, ...]]]) -> MeterLines:
    return MeterLines(*_stack([d() for d in details], 10))


def _stack(chunks: list[tuple[Int64Array, ...]], width: int) -> list[Int64Array]:
    """Columns of the chunks: int64, or Python integers where a value is past int64."""
    if not chunks:
        return [np.zeros(0, dtype=_I64) for _ in range(width)]
    out = []
    for i in range(width):
        parts = [np.asarray(c[i]) for c in chunks]
        column = parts[0] if len(parts) == 1 else np.concatenate(parts)
        out.append(narrow(column) if column.dtype == object else column.astype(_I64, copy=False))
    return out


def _house_rows(chunks: list[tuple[Int64Array, ...]]) -> HouseRows:
    c = _stack(chunks, 9)
    return HouseRows(c[0], c[1], c[2], c[3].astype(np.bool_), c[4], c[5], c[6], c[7], c[8])


__all__ = ["bill"]
