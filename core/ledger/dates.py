"""Calendar helpers of the ledger: periods as month indexes, days as ordinals."""

from __future__ import annotations

import calendar
import re
from datetime import date
from functools import cache

from core.ledger.errors import LedgerError

_PERIOD = re.compile(r"^(\d{4})-(\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# The deadline moved from the 10th to the 15th for periods from 2026-02 (ФЗ № 177-ФЗ).
FIFTEENTH_FROM = 2026 * 12 + 1  # month index of 2026-02


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def period_name(index: int) -> str:
    year, month0 = divmod(index, 12)
    return f"{year:04d}-{month0 + 1:02d}"


def parse_period(value: object, where: str) -> int:
    match = _PERIOD.match(value) if isinstance(value, str) else None
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise LedgerError(f"{where}: {value!r} is not a period YYYY-MM")
    return month_index(int(match.group(1)), int(match.group(2)))


def parse_day(value: object, where: str) -> int:
    """``"2026-03-31"`` → the date's proleptic ordinal; a date that does not exist is an error."""
    if not isinstance(value, str) or _DATE.match(value) is None:
        raise LedgerError(f"{where}: {value!r} is not a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value).toordinal()
    except ValueError:
        raise LedgerError(f"{where}: {value!r} is not a date that exists") from None


def day_name(ordinal: int) -> str:
    return date.fromordinal(ordinal).isoformat()


@cache
def first_day(index: int) -> int:
    """The ordinal of the 1st of month ``index``."""
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, 1).toordinal()


@cache
def last_day(index: int) -> int:
    year, month0 = divmod(index, 12)
    return date(year, month0 + 1, calendar.monthrange(year, month0 + 1)[1]).toordinal()


def month_of(ordinal: int) -> int:
    d = date.fromordinal(ordinal)
    return month_index(d.year, d.month)


@cache
def charged_on(period: int) -> int:
    """A period is charged on the 1st day of the month after it."""
    return first_day(period + 1)


@cache
def due_date(period: int, due_day: int | None) -> int:
    """The last day to pay period's charge without delay: ``due_day`` of the next month (clamped
    to its length), or by the law the 10th up to 2026-01 and the 15th from 2026-02."""
    day = due_day if due_day is not None else (15 if period >= FIFTEENTH_FROM else 10)
    start = first_day(period + 1)
    return min(start + day - 1, last_day(period + 1))
