"""Local 80020 period times (``HHMM`` of the file's day) to UTC intervals, with zoneinfo.

The file's times are wall-clock times of the configured zone. A start time that occurs twice
(the repeated hour of a changeover day) is the first, summer-time occurrence when the period
carries ``summer="1"`` and the second otherwise; a start time the clocks skipped is an error.
An interval ends at whichever comes first: its nominal length after the start, or the moment
the wall clock shows its end time. That reads both ``0100-0200`` and ``0100-0300`` right
across a spring-forward gap and keeps the first ``0100-0200`` of a fall-back day one hour long.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from adapters.askue.model import Period
from core.codes import Flag

_HHMM = re.compile(r"^([01]\d|2[0-4])([0-5]\d)$")
_DAY = timedelta(days=1)


class PeriodTimeError(ValueError):
    """A period whose times cannot be placed; the message says why."""


class TimeOutOfRangeError(PeriodTimeError):
    """A local time that has no UTC instant datetime can hold (the edges of years 1 and 9999)."""


def out_of_range(what: str) -> TimeOutOfRangeError:
    return TimeOutOfRangeError(
        f"{what} cannot be represented in UTC (outside 0001-01-01..9999-12-31)"
    )


def minutes(text: str | None, *, what: str) -> int:
    """Minutes since midnight of an ``HHMM`` attribute; ``2400`` is accepted for midnight."""
    if text is None:
        raise PeriodTimeError(f"period has no {what} attribute")
    m = _HHMM.match(text)
    if m is None or (m.group(1) == "24" and m.group(2) != "00"):
        raise PeriodTimeError(f"period {what} {text!r} is not a time HHMM")
    return int(m.group(1)) * 60 + int(m.group(2))


def check_period(start: str | None, end: str | None, summer: str | None) -> tuple[int, int, bool]:
    """Start and end minutes (end of the day = 1440) and the summer marker, or PeriodTimeError."""
    s = minutes(start, what="start")
    e = minutes(end, what="end")
    if s == 1440:
        raise PeriodTimeError(f"period start {start!r} is the end of the day")
    if e == 0:
        e = 1440  # the last period of the day ends at the next midnight, written 0000
    if e <= s:
        raise PeriodTimeError(f"period end {end!r} is not after its start {start!r}")
    if summer not in (None, "", "0", "1"):
        raise PeriodTimeError(f'summer={summer!r}: only "1" (or "0") is allowed')
    return s, e, summer == "1"


def _wall(day: date, mins: int, zone: ZoneInfo, fold: int) -> datetime:
    d = day + timedelta(days=mins // 1440)
    m = mins % 1440
    return datetime.combine(d, time(m // 60, m % 60, fold=fold), tzinfo=zone)


def _exists(local: datetime) -> bool:
    back = local.astimezone(UTC).astimezone(local.tzinfo)
    return back.replace(tzinfo=None) == local.replace(tzinfo=None)


def is_ambiguous(local: datetime) -> bool:
    """True if the wall time occurs twice (the repeated hour of a fall-back day)."""
    first, second = local.replace(fold=0), local.replace(fold=1)
    return first.utcoffset() != second.utcoffset() and _exists(first) and _exists(second)


def resolve_period(
    day: date, zone: ZoneInfo, start: str | None, end: str | None, summer_attr: str | None
) -> tuple[Period, str | None]:
    """The UTC interval of a period of ``day``, and a warning (or None); PeriodTimeError
    (TimeOutOfRangeError near the edges of the calendar: a day 9999-12-31 or 0001-01-01)."""
    s, e, summer = check_period(start, end, summer_attr)
    assert start is not None and end is not None  # check_period refuses None
    try:
        return _resolve(day, zone, start, end, s, e, summer)
    except OverflowError:
        raise out_of_range(f"period {start}-{end} of {day.isoformat()} in {zone.key}") from None


def _resolve(
    day: date, zone: ZoneInfo, start: str, end: str, s: int, e: int, summer: bool
) -> tuple[Period, str | None]:
    local = _wall(day, s, zone, 0)
    if not _exists(local):
        raise PeriodTimeError(
            f"period start {start} does not exist on {day.isoformat()} in {zone.key} "
            "(the clocks skipped it)"
        )
    warning = None
    flags = 0
    if is_ambiguous(local):
        if summer:
            flags = Flag.SUMMER_REPEAT
        else:
            local = local.replace(fold=1)
    elif summer:
        warning = (
            f'period {start}-{end}: summer="1" on a time that is not repeated on '
            f"{day.isoformat()} in {zone.key}; marker ignored"
        )
    start_utc = local.astimezone(UTC)
    nominal_end = start_utc + timedelta(minutes=e - s)
    wall_end = min(
        (
            w.astimezone(UTC)
            for w in (_wall(day, e, zone, 0), _wall(day, e, zone, 1))
            if w.astimezone(UTC) > start_utc
        ),
        default=nominal_end,
    )
    period = Period(
        start=start,
        end=end,
        summer=summer,
        start_utc=start_utc,
        end_utc=min(nominal_end, wall_end),
        flags=int(flags),
    )
    return period, warning


def local_timestamp(text: str, zone: ZoneInfo) -> datetime:
    """A ``YYYYMMDDhhmmss`` local timestamp as UTC; ValueError if it is not one
    (TimeOutOfRangeError if it has no UTC instant)."""
    if len(text) != 14 or not (text.isascii() and text.isdigit()):
        raise ValueError(f"timestamp {text[:40]!r} is not YYYYMMDDhhmmss")
    naive = datetime.strptime(text, "%Y%m%d%H%M%S")
    try:
        return naive.replace(tzinfo=zone).astimezone(UTC)
    except OverflowError:
        raise out_of_range(f"timestamp {text} in {zone.key}") from None


def parse_day(text: str) -> date:
    """A ``YYYYMMDD`` day; ValueError if it is not one."""
    if len(text) != 8 or not (text.isascii() and text.isdigit()):
        raise ValueError(f"day {text[:40]!r} is not YYYYMMDD")
    return datetime.strptime(text, "%Y%m%d").date()


__all__ = [
    "PeriodTimeError",
    "TimeOutOfRangeError",
    "check_period",
    "is_ambiguous",
    "local_timestamp",
    "parse_day",
    "resolve_period",
]
