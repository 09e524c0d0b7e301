"""Billing periods (months, ``YYYY-MM``) and their bounds in a time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from core.errors import UchetError


class PeriodError(UchetError):
    """A period that is not YYYY-MM."""


def parse_period(text: str) -> tuple[int, int]:
    """``"2026-03"`` -> ``(2026, 3)``; anything else is a :class:`PeriodError`."""
    try:
        year, month = (int(p) for p in text.split("-"))
        date(year, month, 1)
    except ValueError as exc:
        raise PeriodError(f"period {text!r}: expected YYYY-MM") from exc
    return year, month


def month_bounds(year: int, month: int, timezone: str) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, local midnight, in UTC."""
    tz = ZoneInfo(timezone)
    start = datetime(year, month, 1, tzinfo=tz).astimezone(UTC)
    nxt = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=tz).astimezone(UTC)
    return start, nxt
