"""The JSON billing case (spec/billing-case.md): a parsed document in, the spec's output out.

Pure: takes the decoded JSON value, never a file; every error names what is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from core.billing import limits
from core.billing.engine import bill
from core.billing.exact import format_fixed, scaled_round
from core.billing.explain import explanations
from core.billing.model import (
    METHODS,
    NO_INSTALL,
    SERVICES,
    SOI_SERVICES,
    BillingInput,
    BillingResult,
    BillingSettings,
    Fixed,
    Houses,
    Meters,
    Premises,
    Registers,
    month_index,
    month_name,
)
from core.billing.registers import DecreasingReading, month_registers
from core.errors import BillingError

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _period(value: object, where: str) -> int:
    match = _PERIOD.match(value) if isinstance(value, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise BillingError(f"{where}: {value!r} is not a period YYYY-MM")
    limits.year(date(int(match.group(1)), int(match.group(2)), 1), where, value)
    return month_index(int(match.group(1)), int(match.group(2)))


_CASE_KEYS = (
    "start_period",
    "period",
    "timezone",
    "settings",
    "tariffs",
    "normatives",
    "soi_normatives",
    "houses",
    "premises",
)
_SETTINGS_KEYS = (
    "average_window_months",
    "average_min_months",
    "average_max_periods",
    "increasing_coefficient",
)
_HOUSE_KEYS = ("id", "common_area", "soi_excess", "meters")
_PREMISE_KEYS = (
    "id",
    "house",
    "area",
    "residential",
    "residents",
    "owners",
    "meter_possible",
    "normatives",
    "meters",
)
_METER_KEYS = ("id", "service", "installed", "capacity_digits", "readings")


def _bool(value: object, where: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise BillingError(f"{where}: {value!r} is not true or false")
    return value


def _service(name: object, where: str) -> int:
    if name not in SERVICES:
        raise BillingError(f"{where}: unknown service {name!r} (known: {', '.join(SERVICES)})")
    return SERVICES.index(str(name))


def _object(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BillingError(f"{where}: expected an object")
    return value


def _list(value: object, where: str) -> Sequence[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BillingError(f"{where}: expected a list")
    return value


def _by_service(
    value: object, where: str, check: Callable[[object, str], Decimal]
) -> dict[int, Decimal]:
    return {_service(k, where): check(v, f"{where}.{k}") for k, v in _object(value, where).items()}


def _instant(value: object, tz: ZoneInfo, where: str) -> tuple[int, int]:
    """(microseconds since the epoch, month index of the local date) of a timestamp."""
    if not isinstance(value, str):
        raise BillingError(f"{where}: {value!r} is not an ISO 8601 timestamp")
    try:
        if len(value.strip()) == 10:
            d = date.fromisoformat(value.strip())
            limits.year(d, where, value)
            moment = datetime(d.year, d.month, d.day, tzinfo=tz)
        else:
            moment = datetime.fromisoformat(value.strip())
            limits.year(moment, where, value)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=tz)
        local = moment.astimezone(tz)
    except (ValueError, OverflowError):
        raise BillingError(f"{where}: {value!r} is not an ISO 8601 timestamp") from None
    return (moment - _EPOCH) // timedelta(microseconds=1), month_index(local.year, local.month)


def _fixed(values: Sequence[Decimal], where: str) -> Fixed:
    try:
        return Fixed.of(values)
    except OverflowError:
        raise BillingError(f"{where}: a value has too many digits to bill exactly") from None


class _MeterTable:
    """Meters and their readings gathered while parsing, turned into registers at the end."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.owner: list[int] = []
        self.service: list[int] = []
        self.installed: list[int] = []
        self.digits: list[int] = []
        self.r_meter: list[int] = []
        self.r_instant: list[int] = []
        self.r_month: list[int] = []
        self.r_value: list[Decimal] = []
        self.r_where: list[str] = []

    def add(self, raw: object, owner: int, where: str, tz: ZoneInfo) -> None:
        meter = _object(raw, where)
        mid = str(meter.get("id", f"#{len(self.ids)}"))
        where = f"{where} (meter {mid})"
        limits.known_keys(meter, _METER_KEYS, where)
        service = _service(meter.get("service"), f"{where}: service")
        installed = meter.get("installed")
        month = (
            NO_INSTALL if installed is None else _instant(installed, tz, f"{where}: installed")[1]
        )
        digits = meter.get("capacity_digits")
        index = len(self.ids)
        self.ids.append(mid)
        self.owner.append(owner)
        self.service.append(service)
        self.installed.append(month)
        capacity = limits.capacity_digits(digits, where)
        self.digits.append(-1 if capacity is None else capacity)
        for n, reading in enumerate(_list(meter.get("readings"), f"{where}: readings"), 1):
            at = f"meter {mid}: reading {n}"
            if not isinstance(reading, list) or len(reading) != 2:
                raise BillingError(f"{at}: expected [timestamp, value]")
            instant, month = _instant(reading[0], tz, f"{at}: timestamp")
            self.r_meter.append(index)
            self.r_instant.append(instant)
            self.r_month.append(month)
            self.r_value.append(limits.reading(reading[1], f"{at}: value", capacity))
            self.r_where.append(f"{at} ({reading[0]}, {reading[1]})")

    def meters(self) -> Meters:
        return Meters(
            self.ids,
            np.array(self.owner, dtype=np.int64),
            np.array(self.service, dtype=np.int64),
            np.array(self.installed, dtype=np.int64),
        )

    def registers(self) -> Registers:
        result = month_registers(
            np.array(self.r_meter, dtype=np.int64),
            np.array(self.r_instant, dtype=np.int64),
            np.array(self.r_month, dtype=np.int64),
            _fixed(self.r_value, "readings"),
            np.array(self.digits, dtype=np.int64),
        )
        if isinstance(result, DecreasingReading):
            raise BillingError(
                f"{self.r_where[result.position]} is lower than the previous "
                f"{self.r_where[result.previous]} and the meter has no capacity_digits"
            )
        return result


def parse_case(doc: object) -> tuple[BillingInput, dict[int, str]]:
    """A decoded case document as a :class:`BillingInput`, with each tariff's text."""
    case = _object(doc, "case")
    limits.known_keys(case, _CASE_KEYS, "case")
    last = _period(case.get("period"), "period")
    first = _period(case.get("start_period"), "start_period") if "start_period" in case else last
    if last < first:
        raise BillingError(
            f"period {case.get('period')} is before start_period {case.get('start_period')}"
        )
    try:
        tz = ZoneInfo(str(case.get("timezone", "Europe/Moscow")))
    except (ZoneInfoNotFoundError, ValueError):
        raise BillingError(f"timezone: unknown time zone {case.get('timezone')!r}") from None
    raw = _object(case.get("settings"), "settings")
    limits.known_keys(raw, _SETTINGS_KEYS, "settings")
    defaults = BillingSettings()
    settings = BillingSettings(
        average_window_months=limits.setting_months(
            raw.get("average_window_months"),
            "settings.average_window_months",
            defaults.average_window_months,
            1,
        ),
        average_min_months=limits.setting_months(
            raw.get("average_min_months"),
            "settings.average_min_months",
            defaults.average_min_months,
            0,
        ),
        average_max_periods=limits.setting_months(
            raw.get("average_max_periods"),
            "settings.average_max_periods",
            defaults.average_max_periods,
            0,
        ),
        increasing_coefficient=limits.coefficient(
            raw.get("increasing_coefficient", str(defaults.increasing_coefficient)),
            "settings.increasing_coefficient",
        ),
    )
    tariffs = _by_service(case.get("tariffs"), "tariffs", limits.tariff)
    normatives = _by_service(case.get("normatives"), "normatives", limits.normative)
    soi = _by_service(case.get("soi_normatives"), "soi_normatives", limits.normative)
    for s in soi:
        if s not in SOI_SERVICES:
            raise BillingError(f"soi_normatives: no СОИ lines for {SERVICES[s]}")

    house_ids: list[str] = []
    common: list[Decimal] = []
    common_given: list[bool] = []
    distribute: list[bool] = []
    house_meters = _MeterTable()
    for n, raw_house in enumerate(_list(case.get("houses"), "houses")):
        house = _object(raw_house, f"houses[{n}]")
        hid = house.get("id")
        if not isinstance(hid, str) or hid in house_ids:
            raise BillingError(f"houses[{n}]: id {hid!r} missing or repeated")
        limits.known_keys(house, _HOUSE_KEYS, f"house {hid}")
        house_ids.append(hid)
        area = house.get("common_area")
        common_given.append(area is not None)
        common.append(
            Decimal(0)
            if area is None
            else limits.area(area, f"house {hid}: common_area", positive=False)
        )
        excess = house.get("soi_excess", "operator")
        if excess not in ("operator", "distribute"):
            raise BillingError(f"house {hid}: soi_excess {excess!r} is not operator or distribute")
        distribute.append(excess == "distribute")
        for raw_meter in _list(house.get("meters"), f"house {hid}: meters"):
            house_meters.add(raw_meter, n, f"house {hid}", tz)

    premise_ids: list[str] = []
    house_of: list[int] = []
    areas: list[Decimal] = []
    residential: list[bool] = []
    residents: list[int] = []
    owners: list[int] = []
    possible: list[bool] = []
    overrides: list[dict[int, Decimal]] = []
    meters = _MeterTable()
    for n, raw_premise in enumerate(_list(case.get("premises"), "premises")):
        premise = _object(raw_premise, f"premises[{n}]")
        pid = premise.get("id")
        if not isinstance(pid, str) or pid in premise_ids:
            raise BillingError(f"premises[{n}]: id {pid!r} missing or repeated")
        where = f"premise {pid}"
        limits.known_keys(premise, _PREMISE_KEYS, where)
        if premise.get("house") not in house_ids:
            raise BillingError(f"{where}: unknown house {premise.get('house')!r}")
        premise_ids.append(pid)
        house_of.append(house_ids.index(str(premise["house"])))
        if "area" not in premise:
            raise BillingError(f"{where}: area missing")
        areas.append(limits.area(premise["area"], f"{where}: area"))
        residential.append(_bool(premise.get("residential"), f"{where}: residential", True))
        residents.append(limits.count(premise.get("residents"), f"{where}: residents", 0))
        owners.append(limits.count(premise.get("owners"), f"{where}: owners", 0))
        possible.append(_bool(premise.get("meter_possible"), f"{where}: meter_possible", True))
        overrides.append(
            _by_service(premise.get("normatives"), f"{where}: normatives", limits.normative)
        )
        for raw_meter in _list(premise.get("meters"), f"{where}: meters"):
            meters.add(raw_meter, n, where, tz)

    per_service: dict[int, Fixed] = {}
    given: dict[int, np.typing.NDArray[np.bool_]] = {}
    for s in range(len(SERVICES)):
        values = [o.get(s, normatives.get(s)) for o in overrides]
        mask = np.array([v is not None for v in values], dtype=np.bool_)
        if mask.any():
            per_service[s] = _fixed([v or Decimal(0) for v in values], f"normatives.{SERVICES[s]}")
            given[s] = mask
    premises = Premises(
        ids=premise_ids,
        house=np.array(house_of, dtype=np.int64),
        area=_fixed(areas, "area"),
        residential=np.array(residential, dtype=np.bool_),
        residents=np.array(residents, dtype=np.int64),
        owners=np.array(owners, dtype=np.int64),
        meter_possible=np.array(possible, dtype=np.bool_),
        normatives=per_service,
        normative_given=given,
    )
    houses = Houses(
        ids=house_ids,
        common_area=_fixed(common, "common_area"),
        common_area_given=np.array(common_given, dtype=np.bool_),
        distribute_excess=np.array(distribute, dtype=np.bool_),
    )
    inp = BillingInput(
        first_period=first,
        last_period=last,
        tariffs=tariffs,
        soi_normatives=soi,
        premises=premises,
        houses=houses,
        meters=meters.meters(),
        registers=meters.registers(),
        house_meters=house_meters.meters(),
        house_registers=house_meters.registers(),
        settings=settings,
    )
    return inp, {s: format(t, "f") for s, t in tariffs.items()}


def case_output(result: BillingResult, *, explain: bool = True) -> dict[str, list[dict[str, Any]]]:
    """The spec's output document: accrual lines and house rows, numbers as strings."""
    inp = result.input
    a = result.accruals
    order = np.lexsort((a.method, a.service, a.premise, a.period))
    texts = explanations(result) if explain else None
    coefficient = format(inp.settings.increasing_coefficient, "f")
    accruals: list[dict[str, Any]] = []
    for i in order.tolist():
        s = int(a.service[i])
        line: dict[str, Any] = {
            "period": month_name(int(a.period[i])),
            "premise": inp.premises.ids[int(a.premise[i])],
            "service": SERVICES[s],
            "method": METHODS[int(a.method[i])],
            "volume": format_fixed(int(a.volume_micro[i]), 6),
            "tariff": format(inp.tariffs[s], "f"),
            "coefficient": coefficient if a.increased[i] else "1",
            "amount": format_fixed(int(a.amount_kopecks[i]), 2),
        }
        if texts is not None:
            line["explanation"] = texts[i]
        accruals.append(line)
    hr = result.houses

    def micro(values: np.typing.NDArray[np.int64]) -> list[str]:
        rounded = scaled_round(values, result.unit, 10**6, 1)
        return [format_fixed(int(v), 6) for v in rounded.tolist()]

    house_volume, individual, excess, distributed, operator = (
        micro(hr.house_volume),
        micro(hr.individual),
        micro(hr.excess),
        micro(hr.distributed),
        micro(hr.operator),
    )
    houses = []
    for i in np.lexsort((hr.service, hr.house, hr.period)).tolist():
        measured = bool(hr.measured[i])
        houses.append(
            {
                "period": month_name(int(hr.period[i])),
                "house": inp.houses.ids[int(hr.house[i])],
                "service": SERVICES[int(hr.service[i])],
                "house_volume": house_volume[i] if measured else None,
                "individual_volume": individual[i],
                "excess_volume": excess[i] if measured else None,
                "distributed_volume": distributed[i],
                "operator_volume": operator[i],
            }
        )
    return {"accruals": accruals, "houses": houses}


def bill_case(doc: object, *, explain: bool = True) -> dict[str, list[dict[str, Any]]]:
    """Bills a decoded case document and returns the output document."""
    inp, _ = parse_case(doc)
    return case_output(bill(inp), explain=explain)
