"""The ranges of billing input, and the validators every front end shares.

A billing case (``uchet bill-case``), the reference file (``uchet load``) and the API's
reference upload (``POST /v1/operator/reference``, through
:func:`adapters.billing.reference.parse_reference`) check their fields with these functions,
so one value is accepted or refused the same way everywhere. Each error is a
:class:`core.errors.BillingError` whose message names the place (``where``) and the value.

Decimals are JSON strings ("6.935") or JSON integers; JSON floats are refused, because
6.935 as a binary float is not 6.935. The ranges are wide enough for any real house and
narrow enough that a typo (residents 1e20, a tariff "1e20") is caught before billing.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from core.errors import BillingError

#: m² of one premise, and of a house's common areas
AREA_MAX: Final = Decimal(10**6)
AREA_PLACES: Final = 4
#: ₽ per unit of a service
TARIFF_MAX: Final = Decimal(10**7)
#: per person per month (heating: Gcal per m² per month; СОИ: per m² of common area)
NORMATIVE_MAX: Final = Decimal(10**5)
COEFFICIENT_MAX: Final = Decimal(100)
#: decimals of a tariff, normative or coefficient (the core is exact at any of them)
RATE_PLACES: Final = 15
#: residents or owners of one premise (a hostel has hundreds)
PEOPLE_MAX: Final = 10_000
CAPACITY_DIGITS: Final = (1, 12)
#: a register index: below 10**15 (and below 10**capacity_digits when that is given)
READING_MAX: Final = Decimal(10**15)
READING_PLACES: Final = 9
#: calendar years of periods, timestamps and installation dates
YEARS: Final = (1900, 2200)
#: months of the п.59 settings (window, minimum history, periods by average)
SETTING_MONTHS: Final = 120


def decimal(
    value: object,
    where: str,
    *,
    high: Decimal,
    places: int,
    positive: bool = False,
) -> Decimal:
    """A decimal string or integer in [0, high] (or (0, high] if ``positive``) with at most
    ``places`` decimals."""
    if isinstance(value, float):
        raise BillingError(
            f"{where}: {value!r} is a JSON number with a fraction; write it as a decimal "
            f'string ("{value}") so that it stays exact'
        )
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BillingError(f"{where}: {value!r} is not a decimal string")
    text = str(value).strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise BillingError(f"{where}: {value!r} is not a number") from None
    if not number.is_finite():
        raise BillingError(f"{where}: {value!r} is not a number")
    if number < 0 or (positive and number == 0):
        bound = "greater than 0" if positive else "at least 0"
        raise BillingError(f"{where}: {value!r} must be {bound}")
    if number > high:
        raise BillingError(f"{where}: {value!r} is above the limit {high}")
    exponent = int(number.as_tuple().exponent)
    if -exponent > places:
        raise BillingError(f"{where}: {value!r} has more than {places} decimals")
    # "1E+3" is 1000: a plain integer, not a positive exponent
    return number.quantize(Decimal(1)) if exponent > 0 else number


def area(value: object, where: str, *, positive: bool = True) -> Decimal:
    """Area in m²: > 0 (a premise) or ≥ 0 (common area), at most 4 decimals."""
    return decimal(value, where, high=AREA_MAX, places=AREA_PLACES, positive=positive)


def tariff(value: object, where: str) -> Decimal:
    return decimal(value, where, high=TARIFF_MAX, places=RATE_PLACES)


def normative(value: object, where: str) -> Decimal:
    return decimal(value, where, high=NORMATIVE_MAX, places=RATE_PLACES)


def coefficient(value: object, where: str) -> Decimal:
    return decimal(value, where, high=COEFFICIENT_MAX, places=RATE_PLACES)


def reading(value: object, where: str, digits: int | None) -> Decimal:
    """A register index: ≥ 0, below 10**digits when the register has ``digits``."""
    number = decimal(value, where, high=READING_MAX, places=READING_PLACES)
    if digits is not None and number >= Decimal(10) ** digits:
        raise BillingError(
            f"{where}: {value!r} does not fit a register of {digits} digits (capacity_digits)"
        )
    return number


def count(value: object, where: str, default: int, high: int = PEOPLE_MAX) -> int:
    """A JSON integer in [0, high] (``default`` when absent)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise BillingError(f"{where}: {value!r} is not an integer")
    if not 0 <= value <= high:
        raise BillingError(f"{where}: {value!r} is not in 0..{high}")
    return value


def capacity_digits(value: object, where: str) -> int | None:
    """``capacity_digits``: absent, or an integer 1..12."""
    if value is None:
        return None
    lo, hi = CAPACITY_DIGITS
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise BillingError(f"{where}: capacity_digits {value!r} is not an integer {lo}..{hi}")
    return value


def setting_months(value: object, where: str, default: int, low: int) -> int:
    """A month count of the п.59 settings in [low, SETTING_MONTHS]."""
    number = count(value, where, default, SETTING_MONTHS)
    if number < low:
        raise BillingError(f"{where}: {value!r} is not in {low}..{SETTING_MONTHS}")
    return number


def year(moment: date | datetime, where: str, text: object) -> None:
    """Refuses a date outside :data:`YEARS` (a typo, or past what time zones can convert)."""
    lo, hi = YEARS
    if not lo <= moment.year <= hi:
        raise BillingError(f"{where}: {text!r} is outside the years {lo}..{hi}")


def known_keys(item: Mapping[str, Any], known: Collection[str], where: str) -> None:
    """Refuses any key of ``item`` not in ``known``, naming it and its place."""
    unknown = sorted(str(k) for k in item if k not in known)
    if unknown:
        listed = ", ".join(repr(k) for k in unknown)
        raise BillingError(
            f"{where}: unknown field(s) {listed} (known: {', '.join(sorted(known))})"
        )
