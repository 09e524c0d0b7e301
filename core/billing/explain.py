"""Расшифровка начислений: a Russian sentence per accrual line that a resident can check.

Built from a :class:`BillingResult` after the fact, a run of lines of one service and method
at a time: numbers come from the integer columns (:mod:`core.billing.explain_numbers`), the
sentence of each line is one f-string, and what lines share (house totals, house rows,
tariffs) is formatted once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise

import numpy as np

from core.billing.exact import group_sum
from core.billing.explain_keys import ranges, row_keys
from core.billing.explain_numbers import (
    fixed_texts,
    repeated_texts,
    ru,
    volume_texts,
)
from core.billing.model import (
    CW,
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
    METHODS,
    SERVICES,
    BillingResult,
    Int64Array,
    month_name,
)

NAMES = {
    "cold_water": "ХВС",
    "hot_water": "ГВС",
    "sewage": "Водоотведение",
    "electricity": "Электроснабжение",
    "gas": "Газоснабжение",
    "heating": "Отопление",
}
UNITS = {
    "cold_water": "м³",
    "hot_water": "м³",
    "sewage": "м³",
    "electricity": "кВт·ч",
    "gas": "м³",
    "heating": "Гкал",
}
LABELS = {
    M_METER: "по прибору учёта",
    M_AVERAGE: "по среднему",
    M_RECALC: "перерасчёт",
    M_NORMATIVE: "по нормативу",
}
#: methods whose lines sum the volumes of the premise's meters (``individual`` of rule 5)
_INDIVIDUAL = (M_METER, M_RECALC, M_AVERAGE, M_NORMATIVE)
_WRAP = " (с переходом счётчика через ноль)"

__all__ = ["NAMES", "UNITS", "explanation_chunks", "explanations", "ru"]


def explanations(result: BillingResult) -> list[str]:
    """One explanation per accrual line, in the order of ``result.accruals``."""
    out: list[str] = []
    for texts in explanation_chunks(result):
        out += texts
    return out


def explanation_chunks(result: BillingResult, chunk: int = 50_000) -> Iterator[list[str]]:
    """The explanations of the lines in order, a list of at most ``chunk`` at a time (the
    last ones may be larger when the lines are not in long runs of one service and method),
    so a writer can send the first lines while the next are being written."""
    a = result.accruals
    n = a.period.size
    if n == 0:
        return
    if a.method.min() < 0 or a.method.max() >= len(METHODS):
        raise ValueError(f"accrual lines with an unknown method: {sorted(set(a.method.tolist()))}")
    texts = _Texts(result)
    code = a.service * len(METHODS) + a.method
    starts = np.flatnonzero(code[1:] != code[:-1]) + 1
    if starts.size < max(64, n // 256):
        # the engine writes lines in long runs of one service and method: keep their order
        for lo, hi in pairwise([0, *starts.tolist(), n]):
            for at in range(lo, hi, chunk):
                yield texts.lines(np.arange(at, min(hi, at + chunk), dtype=np.int64))
        return
    order = np.argsort(code, kind="stable")
    sorted_code = code[order]
    cuts = [0, *(np.flatnonzero(sorted_code[1:] != sorted_code[:-1]) + 1).tolist(), n]
    scattered = np.empty(n, dtype=object)
    for lo, hi in pairwise(cuts):
        idx = order[lo:hi]
        scattered[idx] = texts.lines(idx)
    yield scattered.tolist()


def _scatter(parts: Sequence[tuple[Int64Array, list[str]]], n: int) -> list[str]:
    """Texts built for subsets (positions, texts) of n lines, back in line order."""
    out = np.empty(n, dtype=object)
    for positions, texts in parts:
        out[positions] = texts
    merged: list[str] = out.tolist()
    return merged


class _Texts:
    """The explanations of one result, built a run of one service and method at a time; what
    several runs share is computed on first use."""

    def __init__(self, result: BillingResult) -> None:
        self.result = result
        self.inp = result.input
        self.a = result.accruals
        self.p = result.input.premises
        self.unit = result.unit
        self._details: tuple[Int64Array, Int64Array, Int64Array] | None = None
        self._area: list[str] | None = None
        self._shares: list[str] | None = None
        self._months: dict[int, str] = {}

    # what a line's sentence ends with

    def money(self, idx: Int64Array, s: int, lead: str = "") -> list[str]:
        """The end of each line: ``lead`` + ' × tariff ₽[ × K (повышающий коэффициент)] =
        amount ₽'."""
        a = self.a
        tariff = f"{lead} × {ru(self.inp.tariffs[s])} ₽"
        increased = a.increased[idx]
        if not increased.any():
            return fixed_texts(a.amount_kopecks[idx], 2, f"{tariff} = ", " ₽")
        amounts = fixed_texts(a.amount_kopecks[idx], 2, after=" ₽")
        k = ru(self.inp.settings.increasing_coefficient)
        up = f"{tariff} × {k} (повышающий коэффициент)"
        return [
            f"{up if i else tariff} = {x}" for x, i in zip(amounts, increased.tolist(), strict=True)
        ]

    def volumes(self, idx: Int64Array) -> list[str]:
        return volume_texts(self.a.num[idx], self.a.den[idx])

    # per premise

    def people(self, premises: Int64Array) -> list[str]:
        p = self.p
        residents = p.residents[premises]
        # one code per distinct sentence: residents > 0, else −owners − 1
        code = np.where(residents > 0, residents, -p.owners[premises] - 1)

        def texts(codes: Int64Array) -> list[str]:
            return [
                f"{c} чел. (проживает)" if c > 0 else f"{-c - 1} чел. (собственники)"
                for c in codes.tolist()
            ]

        return repeated_texts(code, texts)

    def normatives(self, s: int, premises: Int64Array) -> list[str]:
        """The premise's own normative of ``s``, else cold + hot water (sewage)."""
        p = self.p
        fixed = p.normatives[s] if s in p.normatives else None
        if fixed is None:
            given = np.zeros(premises.size, dtype=np.bool_)
        else:
            given = p.normative_given[s][premises]
        if given.all():
            assert fixed is not None
            return repeated_texts(fixed.units[premises], lambda u: fixed_texts(u, fixed.scale))
        cw, hw = p.normatives[CW], p.normatives[HW]
        scale = max(cw.scale, hw.scale)
        rest = premises[~given]
        cw_units, hw_units = cw.units[rest], hw.units[rest]
        cw_up, hw_up = 10 ** (scale - cw.scale), 10 ** (scale - hw.scale)
        bound = max(int(np.abs(cw_units).max()) * cw_up, int(np.abs(hw_units).max()) * hw_up)
        if bound < 2**62:
            sums = cw_units * cw_up + hw_units * hw_up
            water = repeated_texts(sums, lambda u: fixed_texts(u, scale))
        else:
            # past int64: the sum of two decimals, as they are
            water = [
                ru(Decimal(c).scaleb(-cw.scale) + Decimal(h).scaleb(-hw.scale))
                for c, h in zip(cw_units.tolist(), hw_units.tolist(), strict=True)
            ]
        if fixed is None or not given.any():
            return water
        assert fixed is not None
        own = premises[given]
        own_texts = repeated_texts(fixed.units[own], lambda u: fixed_texts(u, fixed.scale))
        return _scatter(
            [(np.flatnonzero(given), own_texts), (np.flatnonzero(~given), water)], premises.size
        )

    def areas(self, premises: Int64Array) -> list[str]:
        if self._area is None:
            area = self.p.area
            self._area = repeated_texts(area.units, lambda u: fixed_texts(u, area.scale))
        texts = self._area
        return [texts[i] for i in premises.tolist()]

    def shares(self, premises: Int64Array) -> list[str]:
        """Each premise's share of its house, '× S_i м² / S_house м²' (formulas 3, 15)."""
        if self._shares is None:
            p = self.p
            n_houses = max(len(self.inp.houses.ids), int(p.house.max()) + 1 if p.house.size else 0)
            total = fixed_texts(group_sum(p.house, p.area.units, n_houses), p.area.scale)
            self._shares = [
                f"× {a} м² / {total[h]} м²"
                for a, h in zip(self.areas(np.arange(p.house.size)), p.house.tolist(), strict=True)
            ]
        texts = self._shares
        return [texts[i] for i in premises.tolist()]

    def readings(self, registers: Int64Array) -> list[str]:
        """Registers as read, 'shown (YYYY-MM)'."""
        shown, months = self.reading_parts(registers)
        return [f"{t}{m}" for t, m in zip(shown, months, strict=True)]

    def reading_parts(self, registers: Int64Array) -> tuple[list[str], list[str]]:
        """Registers as read: the values, and ' (YYYY-MM)' of each (one string per month)."""
        regs = self.inp.registers
        months = regs.month[registers].tolist()
        names = self._months
        for m in set(months) - names.keys():
            names[m] = f" ({month_name(m)})"
        shown = fixed_texts(regs.shown.units[registers], regs.shown.scale)
        return shown, [names[m] for m in months]

    # the lines of one run

    def lines(self, idx: Int64Array) -> list[str]:
        a = self.a
        s, method = int(a.service[idx[0]]), int(a.method[idx[0]])
        name = SERVICES[s]
        title, u = NAMES[name], UNITS[name]
        if method in (M_METER, M_AVERAGE, M_RECALC):
            return self.metered(idx, s, method, title, u)
        if method == M_NORMATIVE:
            lo, hi = self.detail_ranges(idx)
            with_meter = hi > lo
            if with_meter.all():
                return self.metered(idx, s, method, title, u, (lo, hi))
            if not with_meter.any():
                return self.normative(idx, s, title, u)
            sel, rest = np.flatnonzero(with_meter), np.flatnonzero(~with_meter)
            return _scatter(
                [
                    (sel, self.metered(idx[sel], s, method, title, u, (lo[sel], hi[sel]))),
                    (rest, self.normative(idx[rest], s, title, u)),
                ],
                idx.size,
            )
        money, vol = self.money(idx, s), self.volumes(idx)
        premises = a.premise[idx]
        if method == M_WATER_SUM:
            cold, hot = self.water(idx)
            return [
                f"{title} = ХВС + ГВС: {c} + {h} = {v} {u}{m}"
                for c, h, v, m in zip(cold, hot, vol, money, strict=True)
            ]
        if method == M_NORM_AREA:
            return [
                f"{title} по нормативу (формула 2): {ar} м² × {nr} Гкал/м² = {v} {u}{m}"
                for ar, nr, v, m in zip(
                    self.areas(premises), self.normatives(s, premises), vol, money, strict=True
                )
            ]
        shares = self.shares(premises)
        if method == M_HOUSE_AREA:
            houses = self.p.house[premises]
            got = self.result.house_meter_volume
            house_volume = np.array(
                [
                    got.get((pp, h, s), 0)
                    for pp, h in zip(a.period[idx].tolist(), houses.tolist(), strict=True)
                ],
                dtype=object,
            )
            hv = volume_texts(house_volume, self.unit)
            return [
                f"{title} по общедомовому прибору (формула 3): {h} {u} {sh} = {v} {u}{m}"
                for h, sh, v, m in zip(hv, shares, vol, money, strict=True)
            ]
        prefixes = self.soi_prefixes(idx, s, method, title, u)
        return [
            f"{pr}{sh} = {v} {u}{m}"
            for pr, sh, v, m in zip(prefixes, shares, vol, money, strict=True)
        ]

    def normative(self, idx: Int64Array, s: int, title: str, u: str) -> list[str]:
        """Rule 4: a premise without a meter of the service."""
        premises = self.a.premise[idx]
        return [
            f"{title} по нормативу (нет прибора учёта): {pe} × {nr} {u} = {v} {u}{m}"
            for pe, nr, v, m in zip(
                self.people(premises),
                self.normatives(s, premises),
                self.volumes(idx),
                self.money(idx, s),
                strict=True,
            )
        ]

    def water(self, idx: Int64Array) -> tuple[list[str], list[str]]:
        """Rule 5: the premise's cold and hot water volumes (sums of its lines by meter,
        average, normative and recalculation) of each sewage line."""
        a = self.a
        src = np.flatnonzero(np.isin(a.method, _INDIVIDUAL) & np.isin(a.service, (CW, HW)))
        n = idx.size
        cols = [a.period[idx], a.premise[idx]]
        query = [np.concatenate([c, c]) for c in cols]
        query.append(np.repeat(np.array([CW, HW], dtype=np.int64), n))
        src_keys, keys = row_keys([a.period[src], a.premise[src], a.service[src]], query)
        dens, nums = a.den[src], a.num[src]
        if src.size == 0:
            texts = volume_texts(np.zeros(keys.size, dtype=np.int64), 1)
        elif bool((dens == dens[0]).all()) and float(np.abs(nums).sum(dtype=np.float64)) < 2.0**61:
            order = np.argsort(src_keys, kind="stable")
            sorted_keys = src_keys[order]
            firsts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
            distinct = sorted_keys[firsts]
            sums = np.add.reduceat(nums[order], firsts)
            pos = np.minimum(np.searchsorted(distinct, keys), distinct.size - 1)
            values = np.where(distinct[pos] == keys, sums[pos], 0)
            texts = volume_texts(values, int(dens[0]))
        else:
            # lines of one premise over different denominators: exact sums, rare
            total: dict[int, Fraction] = {}
            for k, num, den in zip(src_keys.tolist(), nums.tolist(), dens.tolist(), strict=True):
                total[k] = total.get(k, Fraction(0)) + Fraction(num, den)
            texts = [ru(total.get(k, Fraction(0))) for k in keys.tolist()]
        return texts[:n], texts[n:]

    def soi_prefixes(self, idx: Int64Array, s: int, method: int, title: str, u: str) -> list[str]:
        """What the СОИ lines of a house row share, up to the premise's share."""
        if method not in (M_SOI_HOUSE, M_SOI_NORM):
            raise ValueError(f"accrual line with an unknown method {method}")
        a, hr, inp = self.a, self.result.houses, self.inp
        houses = self.p.house[a.premise[idx]]
        row_key, line_key = row_keys(
            [hr.period, hr.house, hr.service],
            [a.period[idx], houses, np.full(idx.size, s, dtype=np.int64)],
        )
        order = np.argsort(row_key, kind="stable")
        lo, hi = ranges(row_key[order], line_key)
        if (hi == lo).any():
            i = int(idx[np.flatnonzero(hi == lo)[0]])
            raise KeyError((int(a.period[i]), int(self.p.house[a.premise[i]]), s))
        # the last row of a (period, house, service), as a dict of them would keep
        rows, inverse = np.unique(order[hi - 1], return_inverse=True)
        unit = self.unit
        dist = volume_texts(hr.distributed[rows], unit)
        ca = inp.houses.common_area
        areas = fixed_texts(ca.units[hr.house[rows]], ca.scale)
        n_soi = ru(inp.soi_normatives[s])
        if method == M_SOI_HOUSE:
            texts = [
                f"{title} на содержание общего имущества по ОДПУ: {hv} − индивидуальные "
                f"{ind} = превышение {ex} {u}, норматив {n_soi} × {c} м², "
                f"к распределению {d} {u} "
                for hv, ind, ex, c, d in zip(
                    volume_texts(hr.house_volume[rows], unit),
                    volume_texts(hr.individual[rows], unit),
                    volume_texts(hr.excess[rows], unit),
                    areas,
                    dist,
                    strict=True,
                )
            ]
        else:
            texts = [
                f"{title} на содержание общего имущества по нормативу (формула 15): "
                f"{n_soi} × {c} м² = {d} {u} "
                for c, d in zip(areas, dist, strict=True)
            ]
        return [texts[i] for i in inverse.reshape(-1).tolist()]

    # lines summed over the premise's meters (rules 2–3)

    def detail_ranges(self, idx: Int64Array) -> tuple[Int64Array, Int64Array]:
        """Per line, the slice of the sorted meter rows that made it (empty: none)."""
        if self._details is None:
            ml, mt, a = self.result.meter_lines, self.inp.meters, self.a
            owner, service = mt.owner[ml.meter], mt.service[ml.meter]
            keys, line_keys = row_keys(
                [ml.period, owner, service, ml.method],
                [a.period, a.premise, a.service, a.method],
            )
            # stable: the meters of a line keep their order in meter_lines
            order = np.argsort(keys, kind="stable")
            self._details = (order, keys[order], line_keys)
        _, sorted_keys, line_keys = self._details
        return ranges(sorted_keys, line_keys[idx])

    def metered(
        self,
        idx: Int64Array,
        s: int,
        method: int,
        title: str,
        u: str,
        found: tuple[Int64Array, Int64Array] | None = None,
    ) -> list[str]:
        """Lines by meter, average, recalculation or normative with a meter: a part per meter,
        the total when there are several."""
        lo, hi = self.detail_ranges(idx) if found is None else found
        assert self._details is not None
        order = self._details[0]
        head = f"{title} {LABELS[method]}: "
        money = self.money(idx, s, f" {u}")
        counts = hi - lo
        if (counts == 1).all():
            return self.parts(order[lo], method, u, head, money)
        total = int(counts.sum())
        starts = np.cumsum(counts) - counts
        positions = np.repeat(lo - starts, counts) + np.arange(total, dtype=np.int64)
        parts = self.parts(order[positions], method, u)
        texts: list[str] = []
        pos = 0
        for c, v, m in zip(counts.tolist(), self.volumes(idx), money, strict=True):
            joined = "; ".join(parts[pos : pos + c])
            texts.append(f"{head}{joined}; итого {v}{m}" if c > 1 else f"{head}{joined}{m}")
            pos += c
        return texts

    def parts(
        self, rows: Int64Array, method: int, u: str, head: str = "", ends: list[str] | None = None
    ) -> list[str]:
        """What each meter row contributed, "прибор … = volume"; between ``head`` and the
        row's ``ends`` (a line of one meter made in one go)."""
        if rows.size == 0:
            return []
        if ends is None or method != M_METER:
            texts = self.meter_parts(rows, method, u)
            return (
                texts
                if ends is None
                else [f"{head}{t}{e}" for t, e in zip(texts, ends, strict=True)]
            )
        ml, regs = self.result.meter_lines, self.inp.registers
        ids = self.inp.meters.ids
        cur, prev = ml.current[rows], ml.previous[rows]
        shown, value = regs.shown.units, regs.value.units
        wrap = (shown[cur] - shown[prev]) != (value[cur] - value[prev])
        rc, mc = self.reading_parts(cur)
        rp, mp = self.reading_parts(prev)
        return [
            f"{head}прибор {ids[m]}: {c}{cm} − {p}{pm}{_WRAP if w else ''} = {v}{e}"
            for m, c, cm, p, pm, w, v, e in zip(
                ml.meter[rows].tolist(),
                rc,
                mc,
                rp,
                mp,
                wrap.tolist(),
                volume_texts(ml.volume[rows], self.unit),
                ends,
                strict=True,
            )
        ]

    def meter_parts(self, rows: Int64Array, method: int, u: str) -> list[str]:
        """What each meter row contributed, "прибор … = volume"."""
        ml, mt, regs = self.result.meter_lines, self.inp.meters, self.inp.registers
        ids = mt.ids
        meters = ml.meter[rows]
        mids = [ids[m] for m in meters.tolist()]
        vol = volume_texts(ml.volume[rows], self.unit)
        cur, prev, base = ml.current[rows], ml.previous[rows], ml.base[rows]
        if method == M_METER:
            shown, value = regs.shown.units, regs.value.units
            wrap = (shown[cur] - shown[prev]) != (value[cur] - value[prev])
            return [
                f"прибор {mid}: {rc} − {rp}{_WRAP if w else ''} = {v}"
                for mid, rc, rp, w, v in zip(
                    mids,
                    self.readings(cur),
                    self.readings(prev),
                    wrap.tolist(),
                    vol,
                    strict=True,
                )
            ]
        if method == M_AVERAGE:
            months = regs.month[prev] - regs.month[base]
            return [
                f"прибор {mid} без показаний {k} мес., среднемесячный объём (п.59): "
                f"({rp} − {rb}) / {mo} мес. = {v}"
                for mid, k, rp, rb, mo, v in zip(
                    mids,
                    ml.k[rows].tolist(),
                    self.readings(prev),
                    self.readings(base),
                    months.tolist(),
                    vol,
                    strict=True,
                )
            ]
        if method == M_RECALC:
            return [
                f"прибор {mid}: снимается объём, начисленный по среднему или нормативу "
                f"за {r} мес. без показаний, = {v}"
                for mid, r, v in zip(mids, ml.reversed_periods[rows].tolist(), vol, strict=True)
            ]
        premises = mt.owner[meters]
        s = int(mt.service[meters[0]])
        k = ml.k[rows].tolist()
        why = [
            "первое показание прибора, объём по нормативу"
            if c >= 0 and p < 0
            else "нет показаний прибора"
            if p < 0
            else f"без показаний {kk} мес., истории для среднего мало"
            if b < 0
            else f"без показаний {kk} мес., среднее применяется не дольше"
            for c, p, b, kk in zip(cur.tolist(), prev.tolist(), base.tolist(), k, strict=True)
        ]
        split = [f" / {m} приб." if m > 1 else "" for m in ml.m[rows].tolist()]
        return [
            f"прибор {mid} ({w}, п.60): {pe} × {nr} {u}{sp} = {v}"
            for mid, w, pe, nr, sp, v in zip(
                mids,
                why,
                self.people(premises),
                self.normatives(s, premises),
                split,
                vol,
                strict=True,
            )
        ]
