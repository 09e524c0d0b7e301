"""The billing reference file (docs/billing-data.md): houses, premises, meter bindings, tariffs
and normatives, parsed and checked as a whole before anything is written."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from core.billing import limits
from core.channels import SERVICES, canonical_unit, normalize_channel, service_of
from core.errors import BillingError, PayloadError

RATE_TABLES = ("tariffs", "normatives", "soi_normatives")
SOI_SERVICES = ("cold_water", "hot_water", "electricity")
_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
#: errors listed before the rest are only counted
_MAX_ERRORS = 20


@dataclass(frozen=True, slots=True)
class House:
    id: str
    address: str | None
    common_area: Decimal | None
    soi_excess: str


@dataclass(frozen=True, slots=True)
class Premise:
    id: str
    house: str
    account: str | None
    area: Decimal
    residential: bool
    residents: int
    owners: int
    meter_possible: bool
    normatives: Mapping[str, Decimal]


@dataclass(frozen=True, slots=True)
class MeterBinding:
    """A register (source, external id, channel) bound to a premise or to a house (ОДПУ)."""

    source: str
    external_id: str
    channel: str
    service: str
    unit: str
    premise: str | None
    house: str | None
    installed: date | None
    capacity_digits: int | None


@dataclass(frozen=True, slots=True)
class Rate:
    """A tariff or normative of ``table``, valid from the first day of ``valid_from``."""

    table: str
    service: str
    valid_from: date
    value: Decimal


@dataclass(frozen=True)
class ReferenceData:
    houses: list[House] = field(default_factory=list)
    premises: list[Premise] = field(default_factory=list)
    meters: list[MeterBinding] = field(default_factory=list)
    rates: list[Rate] = field(default_factory=list)


class _Errors:
    """Collects every problem of a file, so one run of ``uchet load`` names them all."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, message: str) -> None:
        self.items.append(message)

    def raise_if_any(self, name: str) -> None:
        if not self.items:
            return
        shown = self.items[:_MAX_ERRORS]
        more = len(self.items) - len(shown)
        tail = f"\n  … and {more} more" if more else ""
        raise BillingError(
            f"{name}: {len(self.items)} problem(s), nothing loaded:\n  " + "\n  ".join(shown) + tail
        )


class _Bad(Exception):
    """One field is wrong; the message names it."""


def _str(value: object, where: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _Bad(f"{where}: {value!r} is not a non-empty string")
    return value.strip()


def _checked(check: Callable[..., Any], value: object, where: str, *args: Any, **kw: Any) -> Any:
    """A :mod:`core.billing.limits` validator whose error becomes this file's problem."""
    try:
        return check(value, where, *args, **kw)
    except BillingError as exc:
        raise _Bad(str(exc)) from None


#: the validator of each rate table's values
_RATE_CHECKS: dict[str, Callable[[object, str], Decimal]] = {
    "tariffs": limits.tariff,
    "normatives": limits.normative,
    "soi_normatives": limits.normative,
}


def _bool(value: object, where: str, default: bool) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _Bad(f"{where}: {value!r} is not true or false")
    return value


def _service(name: object, where: str) -> str:
    if name not in SERVICES:
        raise _Bad(f"{where}: unknown service {name!r} (known: {', '.join(SERVICES)})")
    return str(name)


def parse_period(value: object, where: str) -> date:
    """``YYYY-MM`` as the first day of that month."""
    match = _PERIOD.match(value) if isinstance(value, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise BillingError(f"{where}: {value!r} is not a period YYYY-MM")
    day = date(int(match.group(1)), int(match.group(2)), 1)
    limits.year(day, where, value)
    return day


def _object(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Bad(f"{where}: expected an object")
    return value


def _list(value: object, where: str) -> Sequence[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _Bad(f"{where}: expected a list")
    return value


def _known_keys(item: Mapping[str, Any], known: set[str], where: str) -> None:
    try:
        limits.known_keys(item, known, where)
    except BillingError as exc:
        raise _Bad(str(exc)) from None


_HOUSE_KEYS = {"id", "address", "common_area", "soi_excess", "meters"}
_PREMISE_KEYS = {
    "id",
    "house",
    "account",
    "area",
    "residential",
    "residents",
    "owners",
    "meter_possible",
    "normatives",
    "meters",
}
_METER_KEYS = {"source", "meter", "channel", "installed", "capacity_digits"}


def _meter(
    raw: object, where: str, default_source: str | None, premise: str | None, house: str | None
) -> MeterBinding:
    item = _object(raw, where)
    _known_keys(item, _METER_KEYS, where)
    external_id = _str(item.get("meter"), f"{where}: meter")
    assert external_id is not None
    where = f"{where} (meter {external_id})"
    source = _str(item.get("source", default_source), f"{where}: source")
    assert source is not None
    try:
        channel = normalize_channel(str(item.get("channel", "")))
    except PayloadError:
        raise _Bad(f"{where}: unknown channel {item.get('channel')!r}") from None
    installed = item.get("installed")
    day: date | None = None
    if installed is not None:
        try:
            day = date.fromisoformat(str(installed))
        except ValueError:
            raise _Bad(f"{where}: installed {installed!r} is not a date YYYY-MM-DD") from None
        _checked(limits.year, day, f"{where}: installed", installed)
    digits = _checked(limits.capacity_digits, item.get("capacity_digits"), where)
    service = service_of(channel)
    unit = canonical_unit(channel)
    if unit == "kvarh":
        raise _Bad(f"{where}: channel {channel} is reactive energy, it is never billed")
    return MeterBinding(source, external_id, channel, service, unit, premise, house, day, digits)


def _house(raw: object, where: str, source: str | None, out: ReferenceData) -> None:
    item = _object(raw, where)
    hid = _str(item.get("id"), f"{where}: id")
    assert hid is not None
    _known_keys(item, _HOUSE_KEYS, f"{where} (house {hid})")
    where = f"house {hid}"
    area = item.get("common_area")
    excess = item.get("soi_excess", "operator")
    if excess not in ("operator", "distribute"):
        raise _Bad(f"{where}: soi_excess {excess!r} is not operator or distribute")
    out.houses.append(
        House(
            id=hid,
            address=_str(item.get("address"), f"{where}: address", optional=True),
            common_area=None
            if area is None
            else _checked(limits.area, area, f"{where}: common_area", positive=False),
            soi_excess=str(excess),
        )
    )
    for n, m in enumerate(_list(item.get("meters"), f"{where}: meters")):
        out.meters.append(_meter(m, f"{where}: meters[{n}]", source, None, hid))


def _premise(raw: object, where: str, source: str | None, out: ReferenceData) -> None:
    item = _object(raw, where)
    pid = _str(item.get("id"), f"{where}: id")
    assert pid is not None
    _known_keys(item, _PREMISE_KEYS, f"{where} (premise {pid})")
    where = f"premise {pid}"
    house = _str(item.get("house"), f"{where}: house")
    assert house is not None
    if "area" not in item:
        raise _Bad(f"{where}: area missing")
    area = _checked(limits.area, item["area"], f"{where}: area")
    normatives = {
        _service(k, f"{where}: normatives"): _checked(
            limits.normative, v, f"{where}: normatives.{k}"
        )
        for k, v in _object(item.get("normatives") or {}, f"{where}: normatives").items()
    }
    account = item.get("account")
    out.premises.append(
        Premise(
            id=pid,
            house=house,
            account=None if account is None else _str(str(account), f"{where}: account"),
            area=area,
            residential=_bool(item.get("residential"), f"{where}: residential", True),
            residents=_checked(limits.count, item.get("residents"), f"{where}: residents", 0),
            owners=_checked(limits.count, item.get("owners"), f"{where}: owners", 0),
            meter_possible=_bool(item.get("meter_possible"), f"{where}: meter_possible", True),
            normatives=normatives,
        )
    )
    for n, m in enumerate(_list(item.get("meters"), f"{where}: meters")):
        out.meters.append(_meter(m, f"{where}: meters[{n}]", source, pid, None))


def _rates(table: str, raw: object, out: ReferenceData, errors: _Errors) -> None:
    for n, entry in enumerate(_list(raw, table)):
        where = f"{table}[{n}]"
        try:
            item = _object(entry, where)
            if "valid_from" not in item:
                raise _Bad(f"{where}: valid_from missing")
            try:
                since = parse_period(item["valid_from"], f"{where}: valid_from")
            except BillingError as exc:
                raise _Bad(str(exc)) from None
            for key, value in item.items():
                if key == "valid_from":
                    continue
                service = _service(key, where)
                if table == "soi_normatives" and service not in SOI_SERVICES:
                    raise _Bad(f"{where}: no СОИ lines for {service}")
                value = _checked(_RATE_CHECKS[table], value, f"{where}.{key}")
                out.rates.append(Rate(table, service, since, value))
        except _Bad as exc:
            errors.add(str(exc))


def _duplicates(errors: _Errors, what: str, keys: Sequence[object]) -> None:
    seen: set[object] = set()
    for key in keys:
        if key in seen:
            errors.add(f"{what} {key} appears more than once")
        seen.add(key)


def parse_reference(doc: object, *, name: str = "file") -> ReferenceData:
    """A decoded reference document, or BillingError listing every problem found in it.

    Premises may name houses that are already in the database: the loader checks those.
    """
    errors = _Errors()
    out = ReferenceData()
    if not isinstance(doc, Mapping):
        raise BillingError(f"{name}: expected a JSON object")
    unknown = sorted(set(doc) - {"source", "houses", "premises", *RATE_TABLES})
    if unknown:
        errors.add(f"unknown top-level field(s) {', '.join(unknown)}")
    source = doc.get("source")
    if source is not None and not isinstance(source, str):
        errors.add(f"source: {source!r} is not a string")
        source = None
    for key, parse in (("houses", _house), ("premises", _premise)):
        try:
            items = _list(doc.get(key), key)
        except _Bad as exc:
            errors.add(str(exc))
            continue
        for n, raw in enumerate(items):
            try:
                parse(raw, f"{key}[{n}]", source, out)
            except _Bad as exc:
                errors.add(str(exc))
    for table in RATE_TABLES:
        _rates(table, doc.get(table), out, errors)
    _duplicates(errors, "house", [h.id for h in out.houses])
    _duplicates(errors, "premise", [p.id for p in out.premises])
    _duplicates(errors, "account", [p.account for p in out.premises if p.account is not None])
    _duplicates(errors, "meter", [f"{m.source}/{m.external_id}/{m.channel}" for m in out.meters])
    _duplicates(
        errors,
        "rate",
        [f"{r.table}.{r.service} from {r.valid_from:%Y-%m}" for r in out.rates],
    )
    errors.raise_if_any(name)
    return out
