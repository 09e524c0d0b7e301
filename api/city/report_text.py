"""The words of the city replay report (Russian, for the people who run uchet): the names of
paths, faults, anomalies and causes, the markdown tables with a sentence each, and what the
billing error is and whether it is expected."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from simulators.city.attribution import CAUSES
from simulators.city.town import CW, EL, HW

PATH_NAMES = {
    "mqtt": "MQTT (умные счётчики)",
    "modbus": "Modbus (домовые счётчики)",
    "askue": "АСКУЭ, файлы 80020",
    "api": "API (показания жителей)",
}
FAULT_NAMES = {
    "dead_meter": "счётчик помещения умер",
    "stuck_meter": "счётчик помещения застыл",
    "leak_behind_meter": "утечка за счётчиком помещения",
    "house_network_leak_cold_water": "утечка в сетях дома, холодная вода",
    "house_network_leak_hot_water": "утечка в сетях дома, горячая вода",
    "unregistered_consumers": "неучтённые потребители электроэнергии",
}
ANOMALY_NAMES = {
    "missing_data": "нет данных",
    "stuck_meter": "застывший счётчик",
    "consumption_spike": "всплеск потребления",
    "house_imbalance": "небаланс дома",
}
CAUSE_NAMES = {
    "meter_readings": "по показаниям",
    "averages": "по среднему",
    "normatives": "по нормативу",
    "soi_distribution": "распределение СОИ",
    "leaks": "утечки",
    "unregistered": "неучтённые потребители",
}
SERVICE_RU = {"cold_water": "холодная вода", "hot_water": "горячая вода",
              "electricity": "электроэнергия"}  # fmt: skip
UNITS = {CW: "м³", HW: "м³", EL: "кВт·ч"}


def fault_name(key: str) -> str:
    if key.startswith("house_meter_silent_"):
        days = key.removeprefix("house_meter_silent_").removesuffix("_days")
        return f"домовой счётчик молчал {days} сут."
    return FAULT_NAMES.get(key, key)


def plural(n: int, one: str, few: str, many: str) -> str:
    """``n`` with the Russian form of its noun: 1 дом, 2 дома, 5 домов, 21 дом."""
    tail = n % 100
    if 11 <= tail <= 14:
        return f"{n} {many}"
    return f"{n} {one if n % 10 == 1 else few if 2 <= n % 10 <= 4 else many}"


def _yes(flag: bool) -> str:
    return "да" if flag else "**нет**"


def billing_verdict(e: dict[str, Any]) -> str:
    """What the billing error is and whether it is expected: the simulated faults and the
    rules' estimates (averages, normatives) make one; it is expected while its causes add up
    to it exactly, and a mistake of uchet where they do not."""
    t = e["total"]
    error, charged = Decimal(t["error"]), Decimal(t["charged"])
    share = f" ({error / charged * 100:+.1f} % начисленного)" if charged else ""
    causes = sum(Decimal(t[c]) for c in CAUSES)
    what = (
        f"Ошибка начислений {error} ₽{share} — это начисленное ({t['charged']} ₽) минус"
        f" истинное потребление × тариф ({t['true']} ₽); больше нуля — жители переплатили."
    )
    if causes == error:
        return (
            what + " Она ожидаема: симуляция закладывает неисправные счётчики, утечки и"
            " неучтённых потребителей, а правила начисляют по среднему и нормативу, где"
            " показаний нет; вся ошибка разложена по этим причинам без остатка."
        )
    return (
        what + f" **Не ожидается: {error - causes} ₽ не объяснены ни одной причиной —"
        " это ошибка расчёта, её надо разобрать.**"
    )


def markdown(report: dict[str, Any]) -> str:
    c = report["city"]
    lines = [
        f"# Прогон города, seed {c['seed']}",
        "",
        f"{plural(c['houses'], 'дом', 'дома', 'домов')},"
        f" {plural(c['premises'], 'помещение', 'помещения', 'помещений')}"
        f" ({c['premises_without_water_meters']} без счётчиков воды), месяцы"
        f" {', '.join(c['months'])} после"
        f" {plural(c['warmup_months'], 'месяца', 'месяцев', 'месяцев')} разгона;"
        f" часовой пояс {c['timezone']}.",
        "",
        "## Показания по путям",
        "",
        "Сколько показаний доставил каждый путь и что с ними стало; «сходится» — доставлено ="
        " записано + дубликаты + карантин, «как в истине» — записанное совпало с симуляцией.",
        "",
        "| путь | доставлено | потеряно до доставки | записано | дубликаты | карантин |"
        " сходится | как в истине |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    for name, p in report["paths"].items():
        q = ", ".join(f"{k} {v}" for k, v in {**p["quarantined"], **p["rejected"]}.items()) or "0"
        lines.append(
            f"| {PATH_NAMES.get(name, name)} | {p['delivered']} | {p['lost_before_delivery']} |"
            f" {p['stored']} | {p['duplicates']} | {q} | {_yes(p['reconciles'])} |"
            f" {_yes(p['matches_ground_truth'])} |"
        )
    a = report["anomalies"]
    lines += ["", "## Аномалии: заложенные и найденные VEE", "",
              "Сколько неисправностей каждого вида заложено в симуляцию, сколько из них нашла"
              " проверка VEE и сколько она не может увидеть (нет суточных данных).", "",
              "| неисправность | заложено | найдено | не видно VEE |",
              "|---|---:|---:|---:|"]  # fmt: skip
    for fault, v in a["injected"].items():
        lines.append(
            f"| {fault_name(fault)} | {v.get('injected', 0)} | {v.get('detected', 0)} |"
            f" {v.get('not_visible_to_vee', 0)} |"
        )
    found = ", ".join(f"{ANOMALY_NAMES.get(k, k)} {v}" for k, v in a["found"].items()) or "нет"
    unexplained = (
        ", ".join(f"{ANOMALY_NAMES.get(k, k)} {v}" for k, v in a["found_not_injected"].items())
        or "нет"
    )
    lines += ["", f"Найдено по видам: {found}.", "",
              f"Найдено без заложенной причины: {unexplained}."]  # fmt: skip
    e = report["billing"]["errors"]
    lines += ["", "## Ошибка начислений, ₽", "", billing_verdict(e), "",
              "| месяц | начислено | истинно | ошибка | "
              + " | ".join(CAUSE_NAMES[k] for k in CAUSES) + " |",
              "|---|" + "---:|" * (3 + len(CAUSES))]  # fmt: skip
    for month, d in [*e["by_month"].items(), ("итого", e["total"])]:
        lines.append(
            f"| {month} | {d['charged']} | {d['true']} | {d['error']} | "
            + " | ".join(d[k] for k in CAUSES)
            + " |"
        )
    pm = e["premise_months"]
    lines += [
        "",
        f"Помещение-месяцев: {pm['count']}; переплата в {pm['overcharged']}, недоплата в"
        f" {pm['undercharged']}, ошибка больше 100 ₽ в {pm['over_100_rub']};"
        f" медиана |ошибки| {pm['median_abs']} ₽.",
        "",
        "Каждое помещение, услуга и месяц с разложением ошибки по причинам — в файле"
        " billing_errors.csv рядом с отчётом.",
        "",
    ]
    return "\n".join(lines)
