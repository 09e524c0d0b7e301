"""The explanations as written before issue 3 (a Fraction per number, a scan of the premises
per СОИ line), kept verbatim as the reference the fast ones must equal byte for byte.

Also the baseline of ``bench/bench_explain.py``; the one test here pins the reference itself.
"""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from core.billing.case import parse_case
from core.billing.engine import bill
from core.billing.exact import format_fixed
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
    SERVICES,
    BillingResult,
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


def ru(value: Decimal | Fraction | int, places: int | None = None) -> str:
    """A number the Russian way: decimal comma, thin groups of thousands, ≈ when rounded."""
    approx = ""
    if isinstance(value, Fraction):
        exact = value
        places = 6 if places is None else places
        scaled = exact * 10**places
        rounded = int(scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)
        if scaled < 0:
            rounded = -((-scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator))
        approx = "" if Fraction(rounded) == scaled else "≈ "
        text = format_fixed(rounded, places)
        if not approx and "." in text:
            text = text.rstrip("0")
            whole, _, frac = text.partition(".")
            text = f"{whole}.{frac.ljust(3, '0')}"
    else:
        text = format(Decimal(value), "f") if places is None else f"{Decimal(value):.{places}f}"
    sign = "−" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return approx + sign + " ".join(groups) + ("," + frac if frac else "")


def _dec(units: int, scale: int) -> Decimal:
    return Decimal(units).scaleb(-scale)


def reference_explanations(result: BillingResult) -> list[str]:
    """One explanation per accrual line, in the order of ``result.accruals``."""
    inp = result.input
    a, ml, p, regs = result.accruals, result.meter_lines, inp.premises, inp.registers
    unit = result.unit
    by_line: dict[tuple[int, int, int, int], list[int]] = defaultdict(list)
    for j in range(ml.period.size):
        m = int(ml.meter[j])
        key = (int(ml.period[j]), int(inp.meters.owner[m]), int(inp.meters.service[m]))
        by_line[(*key, int(ml.method[j]))].append(j)
    individual: dict[tuple[int, int, int], Fraction] = defaultdict(Fraction)
    for i in range(a.period.size):
        if int(a.method[i]) in (M_METER, M_RECALC, M_AVERAGE, M_NORMATIVE):
            key = (int(a.period[i]), int(a.premise[i]), int(a.service[i]))
            individual[key] += Fraction(int(a.num[i]), int(a.den[i]))
    house_row = {
        (int(hr_p), int(hr_h), int(hr_s)): j
        for j, (hr_p, hr_h, hr_s) in enumerate(
            zip(result.houses.period, result.houses.house, result.houses.service, strict=True)
        )
    }

    def reading(i: int) -> str:
        shown = ru(_dec(int(regs.shown.units[i]), regs.shown.scale))
        return f"{shown} ({month_name(int(regs.month[i]))})"

    def people(premise: int) -> str:
        n = int(p.residents[premise])
        return f"{n} чел. (проживает)" if n > 0 else f"{int(p.owners[premise])} чел. (собственники)"

    def normative(service: int, premise: int) -> Decimal:
        fixed = p.normatives[service] if service in p.normatives else None
        if fixed is None or not p.normative_given[service][premise]:
            cw, hw = p.normatives[CW], p.normatives[HW]
            return _dec(int(cw.units[premise]), cw.scale) + _dec(int(hw.units[premise]), hw.scale)
        return _dec(int(fixed.units[premise]), fixed.scale)

    def meter_part(j: int, service: str) -> str:
        mid = inp.meters.ids[int(ml.meter[j])]
        method = int(ml.method[j])
        vol = ru(Fraction(int(ml.volume[j]), unit))
        cur, prev, base = int(ml.current[j]), int(ml.previous[j]), int(ml.base[j])
        if method == M_METER:
            wrap = regs.shown.units[cur] - regs.shown.units[prev] != (
                regs.value.units[cur] - regs.value.units[prev]
            )
            note = " (с переходом счётчика через ноль)" if wrap else ""
            return f"прибор {mid}: {reading(cur)} − {reading(prev)}{note} = {vol}"
        if method == M_AVERAGE:
            months = int(regs.month[prev] - regs.month[base])
            return (
                f"прибор {mid} без показаний {int(ml.k[j])} мес., среднемесячный объём (п.59): "
                f"({reading(prev)} − {reading(base)}) / {months} мес. = {vol}"
            )
        if method == M_RECALC:
            return (
                f"прибор {mid}: снимается объём, начисленный по среднему или нормативу "
                f"за {int(ml.reversed_periods[j])} мес. без показаний, = {vol}"
            )
        premise = int(inp.meters.owner[int(ml.meter[j])])
        s = int(inp.meters.service[int(ml.meter[j])])
        if cur >= 0 and prev < 0:
            why = "первое показание прибора, объём по нормативу"
        elif prev < 0:
            why = "нет показаний прибора"
        elif base < 0:
            why = f"без показаний {int(ml.k[j])} мес., истории для среднего мало"
        else:
            why = f"без показаний {int(ml.k[j])} мес., среднее применяется не дольше"
        split = f" / {int(ml.m[j])} приб." if int(ml.m[j]) > 1 else ""
        return (
            f"прибор {mid} ({why}, п.60): {people(premise)} × "
            f"{ru(normative(s, premise))} {service}{split} = {vol}"
        )

    texts: list[str] = []
    for i in range(a.period.size):
        period, premise, s, method = (
            int(a.period[i]),
            int(a.premise[i]),
            int(a.service[i]),
            int(a.method[i]),
        )
        name = SERVICES[s]
        title, u = NAMES[name], UNITS[name]
        volume = Fraction(int(a.num[i]), int(a.den[i]))
        tariff = inp.tariffs[s]
        money = f" × {ru(tariff)} ₽"
        if a.increased[i]:
            money += f" × {ru(inp.settings.increasing_coefficient)} (повышающий коэффициент)"
        money += f" = {ru(_dec(int(a.amount_kopecks[i]), 2))} ₽"
        area = _dec(int(p.area.units[premise]), p.area.scale)
        house = int(p.house[premise])
        if method in (M_METER, M_AVERAGE, M_RECALC) or (
            method == M_NORMATIVE and (period, premise, s, method) in by_line
        ):
            parts = [meter_part(j, u) for j in by_line[(period, premise, s, method)]]
            label = {
                M_METER: "по прибору учёта",
                M_AVERAGE: "по среднему",
                M_RECALC: "перерасчёт",
                M_NORMATIVE: "по нормативу",
            }[method]
            total = f"; итого {ru(volume)} {u}" if len(parts) > 1 else f" {u}"
            text = f"{title} {label}: " + "; ".join(parts) + total + money
        elif method == M_NORMATIVE:
            text = (
                f"{title} по нормативу (нет прибора учёта): {people(premise)} × "
                f"{ru(normative(s, premise))} {u} = {ru(volume)} {u}{money}"
            )
        elif method == M_WATER_SUM:
            cold = individual.get((period, premise, CW), Fraction(0))
            hot = individual.get((period, premise, HW), Fraction(0))
            text = f"{title} = ХВС + ГВС: {ru(cold)} + {ru(hot)} = {ru(volume)} {u}{money}"
        elif method == M_NORM_AREA:
            text = (
                f"{title} по нормативу (формула 2): {ru(area)} м² × "
                f"{ru(normative(s, premise))} Гкал/м² = {ru(volume)} {u}{money}"
            )
        else:
            total_area = sum(
                (_dec(int(x), p.area.scale) for x in p.area.units[p.house == house].tolist()),
                Decimal(0),
            )
            share = f"× {ru(area)} м² / {ru(total_area)} м²"
            if method == M_HOUSE_AREA:
                v = Fraction(result.house_meter_volume.get((period, house, s), 0), unit)
                text = (
                    f"{title} по общедомовому прибору (формула 3): {ru(v)} {u} {share} "
                    f"= {ru(volume)} {u}{money}"
                )
            else:
                j = house_row[(period, house, s)]
                hr = result.houses
                dist = ru(Fraction(int(hr.distributed[j]), unit))
                n_soi = inp.soi_normatives[s]
                ca = _dec(int(inp.houses.common_area.units[house]), inp.houses.common_area.scale)
                if method == M_SOI_HOUSE:
                    text = (
                        f"{title} на содержание общего имущества по ОДПУ: "
                        f"{ru(Fraction(int(hr.house_volume[j]), unit))} − индивидуальные "
                        f"{ru(Fraction(int(hr.individual[j]), unit))} = превышение "
                        f"{ru(Fraction(int(hr.excess[j]), unit))} {u}, "
                        f"норматив {ru(n_soi)} × {ru(ca)} м², к распределению {dist} {u} "
                        f"{share} = {ru(volume)} {u}{money}"
                    )
                else:
                    assert method == M_SOI_NORM
                    text = (
                        f"{title} на содержание общего имущества по нормативу (формула 15): "
                        f"{ru(n_soi)} × {ru(ca)} м² = {dist} {u} {share} "
                        f"= {ru(volume)} {u}{money}"
                    )
        texts.append(text)
    return texts


def test_reference_spells_the_basic_house() -> None:
    case = json.loads(
        (Path(__file__).parent / "cases" / "basic-house.json").read_text(encoding="utf-8")
    )
    result = bill(parse_case(case)[0])
    texts = reference_explanations(result)
    assert len(texts) == result.accruals.period.size
    assert any(
        "прибор" in t and "227,000" in t and "221,300" in t and "= 5,700 м³" in t for t in texts
    )
    assert any(t.startswith("ХВС на содержание общего имущества") for t in texts)
