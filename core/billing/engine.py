"""The billing rules of spec/billing-case.md, vectorized over premises and meters.

Loops run over periods, services and methods only. Every volume is exact: base volumes are
integers in units of 1/Q (Q = 10**scale × the lcm of every divisor the rules use), and lines
shared by area are the ratio (V × S_i) / (Q × S_total).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from core.billing.exact import decimal_parts, group_sum, lcm_of, scaled_round
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
    Accruals,
    BillingInput,
    BillingResult,
    BoolArray,
    HouseRows,
    Int64Array,
    MeterLines,
    Registers,
    month_name,
)
from core.errors import BillingError

NS = len(SERVICES)
_I64 = np.int64
_LIMIT = 2**62


def _i64(values: object) -> Int64Array:
    out: Int64Array = np.asarray(values, dtype=_I64)
    return out


def _to_units(units: Int64Array, scale: int, target: int, lcm: int, what: str) -> Int64Array:
    """Fixed values of ``scale`` in units of 1/(10**target × lcm), refusing int64 overflow."""
    factor = 10 ** (target - scale) * lcm
    if units.size and int(np.abs(units).max()) >= _LIMIT // factor:
        raise BillingError(f"{what}: values too large to bill exactly in 64-bit integers")
    out: Int64Array = units * factor
    return out


@dataclass
class _Lines:
    """Accrual lines collected chunk by chunk, concatenated at the end."""

    chunks: list[tuple[Int64Array, ...]] = field(default_factory=list)

    def add(
        self,
        period: int,
        premise: Int64Array,
        service: int,
        method: int,
        num: Int64Array,
        den: Int64Array | int,
        increased: BoolArray | bool = False,
    ) -> None:
        n = premise.size
        if n == 0:
            return
        self.chunks.append(
            (
                np.full(n, period, dtype=_I64),
                premise.astype(_I64),
                np.full(n, service, dtype=_I64),
                np.full(n, method, dtype=_I64),
                _i64(num),
                np.broadcast_to(_i64(den), (n,)).copy(),
                np.broadcast_to(np.asarray(increased, dtype=np.int64), (n,)).copy(),
            )
        )

    def columns(self) -> list[Int64Array]:
        if not self.chunks:
            return [np.zeros(0, dtype=_I64) for _ in range(7)]
        return [np.concatenate([c[i] for c in self.chunks]) for i in range(7)]


def _lookup(
    regs: Registers, span: int, base: int, meter: Int64Array, month: Int64Array
) -> Int64Array:
    """Index of meter's register for exactly ``month``, or -1."""
    keys = regs.meter * span + (regs.month - base)
    q = meter * span + (month - base)
    i = np.searchsorted(keys, q, side="left")
    ok = i < keys.size
    ic = np.minimum(i, max(keys.size - 1, 0))
    ok &= keys[ic] == q if keys.size else False
    return np.where(ok, ic, -1)


def _house_volumes(
    inp: BillingInput, reg_q: Int64Array, service: int, period: int, span: int, base: int
) -> tuple[BoolArray, Int64Array]:
    """Per house: whether all its meters of ``service`` have R(P) and R(P−1), and V_house."""
    nh = len(inp.houses.ids)
    hm = inp.house_meters
    sel = np.flatnonzero(hm.service == service)
    if sel.size == 0:
        return np.zeros(nh, dtype=np.bool_), np.zeros(nh, dtype=_I64)
    cur = _lookup(inp.house_registers, span, base, sel, np.full(sel.size, period, dtype=_I64))
    prev = _lookup(inp.house_registers, span, base, sel, np.full(sel.size, period - 1, dtype=_I64))
    ok = (cur >= 0) & (prev >= 0)
    owner = hm.owner[sel]
    count = np.bincount(owner, minlength=nh)
    good = np.bincount(owner[ok], minlength=nh)
    padded = np.append(reg_q, 0)  # index -1 reads the padding, masked by ok
    diff = np.where(ok, padded[cur] - padded[prev], 0)
    volume = group_sum(owner, diff, nh)
    return (count > 0) & (good == count), volume


def _unit_scale(inp: BillingInput) -> int:
    p = inp.premises
    scales = [inp.registers.value.scale, inp.house_registers.value.scale]
    scales.append(inp.prior_estimates.volume.scale)
    for s, fixed in p.normatives.items():
        scales.append(fixed.scale + (p.area.scale if s == HEATING else 0))
    for n in inp.soi_normatives.values():
        scales.append(decimal_parts(n)[1] + inp.houses.common_area.scale)
    return max(scales)


def _relative(regs: Registers) -> Int64Array:
    """Register values minus each meter's first value: consumptions stay small in int64."""
    v = regs.value.units
    if v.size == 0:
        return v.copy()
    first = np.ones(v.size, dtype=np.bool_)
    first[1:] = regs.meter[1:] != regs.meter[:-1]
    starts = np.flatnonzero(first)
    return v - np.repeat(v[starts], np.diff(np.append(starts, v.size)))


def bill(inp: BillingInput) -> BillingResult:
    """Bills every period from ``first_period`` to ``last_period`` (see ``core.billing``)."""
    st = inp.settings
    p, h, mt = inp.premises, inp.houses, inp.meters
    np_, nh, nm = len(p.ids), len(h.ids), len(mt.ids)
    if inp.last_period < inp.first_period:
        raise BillingError("period is before start_period")
    window, min_months, max_periods = (
        st.average_window_months,
        st.average_min_months,
        st.average_max_periods,
    )
    if window < 1 or min_months < 0 or max_periods < 0:
        raise BillingError("settings: average months must be positive")
    tariffed = {s for s in inp.tariffs if 0 <= s < NS}
    billed_meter = np.zeros(NS, dtype=np.bool_)
    for s in tariffed:
        billed_meter[s] = s != HEATING

    # the unit 1/Q: every divisor of the rules (a − b for averages, m for split normatives)
    ps_all = mt.owner * NS + mt.service
    max_m = int(np.bincount(ps_all, minlength=1).max()) if nm else 1
    scale = _unit_scale(inp)
    lcm = lcm_of([*range(max(1, min_months), window + 1), *range(1, max_m + 1)])
    unit = 10**scale * lcm

    regs = inp.registers
    reg_q = _to_units(_relative(regs), regs.value.scale, scale, lcm, "readings")
    hreg_q = _to_units(
        _relative(inp.house_registers),
        inp.house_registers.value.scale,
        scale,
        lcm,
        "house readings",
    )
    months = np.concatenate([regs.month, inp.house_registers.month, inp.prior_estimates.month])
    lo = min(int(months.min()) if months.size else inp.first_period, inp.first_period)
    hi = max(int(months.max()) if months.size else inp.last_period, inp.last_period)
    base = lo - window - 2
    span = hi - base + 2
    # a sentinel register past every meter keeps the lookups free of empty-array cases
    reg_meter = np.append(regs.meter, nm)
    reg_month = np.append(regs.month, base)
    reg_q = np.append(reg_q, 0)
    keys = reg_meter * span + (reg_month - base)

    # normatives per service and premise in units of 1/Q
    norm_q = np.zeros((NS, np_), dtype=_I64)
    norm_ok = np.zeros((NS, np_), dtype=np.bool_)
    for s, fixed in p.normatives.items():
        extra = p.area.scale if s == HEATING else 0
        norm_q[s] = _to_units(fixed.units, fixed.scale + extra, scale, lcm, "normatives")
        norm_ok[s] = p.normative_given[s]
    # the sewage normative a sewage meter may need: its own, else cold + hot water
    fallback = ~norm_ok[SEWAGE] & norm_ok[CW] & norm_ok[HW]
    norm_q[SEWAGE] = np.where(fallback, norm_q[CW] + norm_q[HW], norm_q[SEWAGE])
    norm_ok[SEWAGE] |= fallback
    people = np.where(p.residents > 0, p.residents, p.owners)
    area = p.area.units
    area_total = group_sum(p.house, area, nh)

    # meter state across the run: estimates billed since the last reading
    accum = np.zeros(nm, dtype=_I64)
    est_count = np.zeros(nm, dtype=_I64)
    prior = inp.prior_estimates
    if prior.meter.size:
        pq = _to_units(prior.volume.units, prior.volume.scale, scale, lcm, "prior estimates")
        q = prior.meter * span + (inp.first_period - base)
        last = np.searchsorted(keys, q, side="left") - 1
        lc = np.maximum(last, 0)
        has = (last >= 0) & (reg_meter[lc] == prior.meter)
        a0 = np.where(has, reg_month[lc], lo - window - 1)
        take = (prior.month > a0) & (prior.month < inp.first_period)
        accum += group_sum(prior.meter[take], pq[take], nm)
        est_count += np.bincount(prior.meter[take], minlength=nm)

    meter_idx = np.arange(nm, dtype=_I64)
    lines = _Lines()
    detail: list[tuple[Int64Array, ...]] = []
    house_chunks: list[tuple[Int64Array, ...]] = []
    house_volume: dict[tuple[int, int, int], int] = {}
    k_coef = st.increasing_coefficient

    for period in range(inp.first_period, inp.last_period + 1):
        active = (mt.installed < period) & billed_meter[mt.service]
        ps = ps_all
        m_count = np.bincount(ps[active], minlength=np_ * NS)
        # rule 2/3 lookups: R(P), the previous reading month a, the average base b
        i_le = np.searchsorted(keys, meter_idx * span + (period - base), side="right") - 1
        ic = np.maximum(i_le, 0)
        valid = (i_le >= 0) & (reg_meter[ic] == meter_idx)
        has_rp = valid & (reg_month[ic] == period)
        i_a = np.where(has_rp, i_le - 1, i_le)
        ia = np.maximum(i_a, 0)
        has_a = (i_a >= 0) & (reg_meter[ia] == meter_idx)
        a_month = np.where(has_a, reg_month[ia], period)
        i_b = np.searchsorted(keys, meter_idx * span + (a_month - window - base), side="left")
        ib = np.minimum(i_b, keys.size - 1)
        has_b = has_a & (i_b < i_a)
        ab = np.where(has_b, a_month - reg_month[ib], 1)
        avg_ok = has_b & (ab >= min_months)
        k = period - a_month
        by_average = active & ~has_rp & has_a & avg_ok & (k <= max_periods)
        by_meter = active & has_rp & has_a
        by_norm = active & ~by_meter & ~by_average
        m_of = np.maximum(m_count[ps], 1)
        owner = mt.owner
        need = by_norm & ~norm_ok[mt.service, owner]
        if need.any():
            i = int(np.flatnonzero(need)[0])
            raise BillingError(
                f"premise {p.ids[owner[i]]}: no {SERVICES[mt.service[i]]} normative "
                f"(meter {mt.ids[i]} needs it in {month_name(period)})"
            )
        vol = np.zeros(nm, dtype=_I64)
        vol = np.where(by_meter, reg_q[ic] - reg_q[ia], vol)
        vol = np.where(by_average, (reg_q[ia] - reg_q[ib]) // ab, vol)
        vol = np.where(by_norm, people[owner] * norm_q[mt.service, owner] // m_of, vol)
        recalc = by_meter & (est_count > 0)
        recalc_vol = -accum
        estimated = active & ~has_rp
        for method, mask, v in (
            (M_METER, by_meter, vol),
            (M_AVERAGE, by_average, vol),
            (M_NORMATIVE, by_norm, vol),
            (M_RECALC, recalc, recalc_vol),
        ):
            sel = np.flatnonzero(mask)
            detail.append(
                (
                    np.full(sel.size, period, dtype=_I64),
                    sel,
                    np.full(sel.size, method, dtype=_I64),
                    v[sel],
                    np.where(has_rp[sel], i_le[sel], -1),
                    np.where(has_a[sel], i_a[sel], -1),
                    np.where(avg_ok[sel], i_b[sel], -1),
                    k[sel],
                    m_of[sel],
                    est_count[sel],
                )
            )
        accum = np.where(estimated, accum + vol, np.where(has_rp, 0, accum))
        est_count = np.where(estimated, est_count + 1, np.where(has_rp, 0, est_count))

        # individual volumes per (premise, service) by method
        indiv = np.zeros(np_ * NS, dtype=_I64)
        for method, mask, v in (
            (M_METER, by_meter, vol),
            (M_AVERAGE, by_average, vol),
            (M_NORMATIVE, by_norm, vol),
            (M_RECALC, recalc, recalc_vol),
        ):
            sums = group_sum(ps[mask], v[mask], np_ * NS)
            present = np.flatnonzero(np.bincount(ps[mask], minlength=np_ * NS))
            indiv += sums
            for s in sorted(tariffed):
                sel = present[present % NS == s]
                lines.add(period, sel // NS, s, method, sums[sel], unit)

        # rule 4: no active meter of the service
        for s in sorted(tariffed & {CW, HW, EL, GAS}):
            no_meter = (m_count[np.arange(np_) * NS + s] == 0) & p.residential
            sel = np.flatnonzero(no_meter)
            missing = sel[~norm_ok[s, sel]]
            if missing.size:
                raise BillingError(
                    f"premise {p.ids[int(missing[0])]}: no {SERVICES[s]} normative "
                    f"(billed by normative in {month_name(period)})"
                )
            v = people[sel] * norm_q[s, sel]
            increased = p.meter_possible[sel] if s in WITH_COEFFICIENT else False
            lines.add(period, sel, s, M_NORMATIVE, v, unit, increased)
            indiv[sel * NS + s] += v
        indiv2 = indiv.reshape(np_, NS)

        # rule 5: sewage without an active sewage meter
        if SEWAGE in tariffed:
            sel = np.flatnonzero(m_count[np.arange(np_) * NS + SEWAGE] == 0)
            lines.add(period, sel, SEWAGE, M_WATER_SUM, indiv2[sel, CW] + indiv2[sel, HW], unit)

        # heating: formula 3 by the house meter, else formula 2 by area
        pidx = np.arange(np_, dtype=_I64)
        if HEATING in tariffed:
            data, v_house = _house_volumes(inp, hreg_q, HEATING, period, span, base)
            for hi_ in np.flatnonzero(data).tolist():
                house_volume[(period, hi_, HEATING)] = int(v_house[hi_])
            measured = data[p.house]
            sel = pidx[measured]
            num, den = _share(v_house[p.house[sel]], area[sel], area_total[p.house[sel]], unit)
            lines.add(period, sel, HEATING, M_HOUSE_AREA, num, den)
            sel = pidx[~measured]
            missing = sel[~norm_ok[HEATING, sel]]
            if missing.size:
                raise BillingError(
                    f"premise {p.ids[int(missing[0])]}: no heating normative "
                    f"(billed by area in {month_name(period)})"
                )
            lines.add(period, sel, HEATING, M_NORM_AREA, area[sel] * norm_q[HEATING, sel], unit)

        # СОИ per house and service
        for s in [s for s in inp.soi_normatives if s in tariffed]:
            if s not in SOI_SERVICES:
                raise BillingError(f"soi_normatives: no СОИ lines for {SERVICES[s]}")
            needs = ~h.common_area_given
            if needs.any():
                raise BillingError(
                    f"house {h.ids[int(np.flatnonzero(needs)[0])]}: common_area missing"
                )
            n_int, n_pow = decimal_parts(inp.soi_normatives[s])
            cap = _to_units(
                h.common_area.units * n_int, h.common_area.scale + n_pow, scale, lcm, "common_area"
            )
            data, v_house = _house_volumes(inp, hreg_q, s, period, span, base)
            v_ind = group_sum(p.house, indiv2[:, s], nh)
            excess = np.maximum(v_house - v_ind, 0)
            dist = np.where(h.distribute_excess, excess, np.minimum(excess, cap))
            dist = np.where(data, dist, cap)
            operator = np.where(data, excess - dist, 0)
            house_chunks.append(
                (
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
            )
            num, den = _share(dist[p.house], area, area_total[p.house], unit)
            measured = data[p.house]
            lines.add(period, pidx[measured], s, M_SOI_HOUSE, num[measured], den[measured])
            lines.add(period, pidx[~measured], s, M_SOI_NORM, num[~measured], den[~measured])

    period_c, premise_c, service_c, method_c, num_c, den_c, inc_c = lines.columns()
    increased = inc_c.astype(np.bool_)
    volume_micro = scaled_round(num_c, den_c, 10**6, 1)
    amount = np.zeros(num_c.size, dtype=_I64)
    for s in sorted(tariffed):
        for inc in (False, True):
            sel = np.flatnonzero((service_c == s) & (increased == inc))
            if sel.size == 0:
                continue
            coef = k_coef if inc else Decimal(1)
            t_int, t_pow = decimal_parts(inp.tariffs[s] * coef)
            amount[sel] = scaled_round(num_c[sel], den_c[sel], t_int * 100, 10**t_pow)
    accruals = Accruals(
        period_c, premise_c, service_c, method_c, num_c, den_c, increased, volume_micro, amount
    )
    return BillingResult(
        input=inp,
        unit=unit,
        accruals=accruals,
        houses=_house_rows(house_chunks),
        meter_lines=MeterLines(*_stack(detail, 10)),
        house_meter_volume=house_volume,
    )


def _share(
    volume: Int64Array, area: Int64Array, total: Int64Array, unit: int
) -> tuple[Int64Array, Int64Array]:
    """V × S_i / S_total as (num, den) over the unit, reduced to keep int64 headroom."""
    total = np.maximum(total, 1)
    g = np.gcd(area, total)
    a, t = area // np.maximum(g, 1), total // np.maximum(g, 1)
    if volume.size and (
        float(np.abs(volume).max()) * float(a.max()) >= _LIMIT or float(t.max()) * unit >= _LIMIT
    ):
        raise BillingError("areas and volumes too large to bill exactly in 64-bit integers")
    return volume * a, t * unit


def _stack(chunks: list[tuple[Int64Array, ...]], width: int) -> list[Int64Array]:
    if not chunks:
        return [np.zeros(0, dtype=_I64) for _ in range(width)]
    return [np.concatenate([c[i] for c in chunks]).astype(_I64) for i in range(width)]


def _house_rows(chunks: list[tuple[Int64Array, ...]]) -> HouseRows:
    c = _stack(chunks, 9)
    return HouseRows(c[0], c[1], c[2], c[3].astype(np.bool_), c[4], c[5], c[6], c[7], c[8])


__all__ = ["bill"]
