"""Russian words and number formats for the pages: services, units, billing methods, reasons."""

from __future__ import annotations

from datetime import datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.channels import CANONICAL_UNIT

SERVICES = {
    "cold_water": "Холодная вода",
    "hot_water": "Горячая вода",
    "sewage": "Водоотведение",
    "electricity": "Электроэнергия",
    "gas": "Газ",
    "heating": "Отопление",
}
UNITS = {"m3": "м³", "kWh": "кВт·ч", "Gcal": "Гкал"}
#: decimals a meter of the unit shows: water to the litre, heat to the Mcal, power to 0.01 kWh
PLACES = {"m3": 3, "kWh": 2, "Gcal": 3}
METHODS = {
    "meter": "по показаниям счётчика",
    "recalculation": "перерасчёт по показаниям",
    "average": "по среднему расходу",
    "normative": "по нормативу",
    "water_sum": "по сумме холодной и горячей воды",
    "house_meter_area": "по общедомовому счётчику, пропорционально площади",
    "normative_area": "по нормативу на площадь",
    "soi_house_meter": "СОИ: доля общедомового расхода",
    "soi_normative": "СОИ: по нормативу",
}
#: methods that bill the premise's own consumption (what the resident's chart shows)
INDIVIDUAL = ("meter", "recalculation", "average", "normative", "water_sum")
REASONS = {
    "malformed": "нечитаемые данные",
    "unknown_unit": "неизвестная единица",
    "unknown_channel": "неизвестный канал",
    "unknown_meter": "счётчик не привязан",
    "negative_value": "отрицательное значение",
    "future_timestamp": "время в будущем",
    "too_old": "слишком старое",
    "register_rollback": "показание меньше предыдущего",
    "meter_mismatch": "не тот счётчик",
    "conflict": "на это время уже есть другое показание",
    "outside_window": "вне срока приёма показаний",
}
FLAGS = {
    "rollover": "переход через ноль",
    "implausible_rate": "необычно большой расход",
    "out_of_order": "внесено задним числом",
    "estimated": "расчётное",
    "non_commercial": "некоммерческое",
    "summer_repeat": "повтор часа",
    "measurement_error": "ошибка измерения",
    "superseded": "заменено исправлением",
    "manual": "передано вручную",
}
MONTHS = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)  # fmt: skip
_NBSP = "\u00a0"


def _group(digits: str) -> str:
    parts: list[str] = []
    while len(digits) > 3:
        parts.insert(0, digits[-3:])
        digits = digits[:-3]
    parts.insert(0, digits)
    return _NBSP.join(parts)


def money(value: str | Decimal) -> str:
    """``1234.5`` -> ``1 234,50 ₽``, exactly (Decimal, half-up to kopecks)."""
    try:
        amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return str(value)
    sign = "−" if amount < 0 else ""
    whole, _, frac = f"{abs(amount):f}".partition(".")
    return f"{sign}{_group(whole)},{frac}{_NBSP}₽"


def number(value: str | Decimal | float | None, places: int = 3, *, zeros: bool = False) -> str:
    """A plain decimal with a comma, trailing zeros dropped: ``12.500`` -> ``12,5``; with
    ``zeros`` all ``places`` decimals kept, as a meter shows them: ``12,500``."""
    if value is None:
        return "—"
    try:
        d = Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return str(value)
    text = f"{abs(d):f}"
    if "." in text and not zeros:
        text = text.rstrip("0").rstrip(".")
    whole, dot, frac = text.partition(".")
    sign = "−" if d < 0 and text.strip("0.") else ""
    return sign + _group(whole) + ("," + frac if dot else "")


def percent(ratio: float | None) -> str:
    return "—" if ratio is None else number(ratio * 100, 1) + "%"


def period_name(period: str) -> str:
    """``2025-07`` -> ``июль 2025``."""
    try:
        return f"{MONTHS[int(period[5:7]) - 1]} {period[:4]}"
    except (ValueError, IndexError):
        return period


def local_time(ts: datetime | None, tz: tzinfo) -> str:
    return "—" if ts is None else f"{ts.astimezone(tz):%d.%m.%Y %H:%M}"


def volume(value: str | Decimal | float | None, unit: str) -> str:
    """A volume at its meter's precision, with its unit: ``120.5, "m3"`` -> ``120,500 м³``."""
    shown = number(value, PLACES.get(unit, 3), zeros=True)
    return f"{shown}{_NBSP}{UNITS.get(unit, unit)}" if value is not None else shown


def service_volume(value: str | Decimal | float | None, service: str) -> str:
    """A volume of a service (an accrual line) in that service's unit."""
    return volume(value, CANONICAL_UNIT.get(service, ""))


def premise_number(premise_id: str, house_id: str) -> str:
    """What a resident calls the premise: ``h001-002`` of house ``h001`` -> ``2`` (the
    registry's id minus its house prefix); the id itself when it has no such prefix."""
    for sep in ("-", "_", "/", "."):
        if premise_id.startswith(house_id + sep) and len(premise_id) > len(house_id) + 1:
            return premise_id[len(house_id) + 1 :].lstrip("0") or "0"
    return premise_id
