"""Local 80020 periods to UTC: historic Moscow offsets, changeover days, bad period times."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from adapters.askue.timemap import PeriodTimeError, check_period, resolve_period
from core.codes import Flag

MSK = ZoneInfo("Europe/Moscow")


def _utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "start", "end", "summer", "start_utc", "end_utc", "flags"),
    [
        # February 2008: UTC+3.
        (date(2008, 2, 27), "0000", "0100", None, _utc(2008, 2, 26, 21), _utc(2008, 2, 26, 22), 0),
        (
            date(2008, 2, 27),
            "2330",
            "0000",
            None,
            _utc(2008, 2, 27, 20, 30),
            _utc(2008, 2, 27, 21),
            0,
        ),
        (date(2008, 2, 27), "2300", "2400", None, _utc(2008, 2, 27, 20), _utc(2008, 2, 27, 21), 0),
        # Summer 2008 (DST, UTC+4) and 2012 (permanent UTC+4), 2016 (UTC+3).
        (
            date(2008, 7, 1),
            "0000",
            "0030",
            None,
            _utc(2008, 6, 30, 20),
            _utc(2008, 6, 30, 20, 30),
            0,
        ),
        (
            date(2012, 1, 10),
            "1200",
            "1230",
            None,
            _utc(2012, 1, 10, 8),
            _utc(2012, 1, 10, 8, 30),
            0,
        ),
        (
            date(2016, 1, 10),
            "1200",
            "1230",
            None,
            _utc(2016, 1, 10, 9),
            _utc(2016, 1, 10, 9, 30),
            0,
        ),
        # 2010-10-31: 03:00 MSD -> 02:00 MSK; 02:00-03:00 happens twice.
        (
            date(2010, 10, 31),
            "0200",
            "0300",
            "1",
            _utc(2010, 10, 30, 22),
            _utc(2010, 10, 30, 23),
            32,
        ),
        (
            date(2010, 10, 31),
            "0200",
            "0300",
            None,
            _utc(2010, 10, 30, 23),
            _utc(2010, 10, 31, 0),
            0,
        ),
        (
            date(2010, 10, 31),
            "0230",
            "0300",
            "1",
            _utc(2010, 10, 30, 22, 30),
            _utc(2010, 10, 30, 23),
            32,
        ),
        (date(2010, 10, 31), "0300", "0400", None, _utc(2010, 10, 31, 0), _utc(2010, 10, 31, 1), 0),
        # 2014-10-26: 02:00 MSK(+4) -> 01:00 MSK(+3); 01:00-02:00 happens twice.
        (
            date(2014, 10, 26),
            "0100",
            "0200",
            "1",
            _utc(2014, 10, 25, 21),
            _utc(2014, 10, 25, 22),
            32,
        ),
        (
            date(2014, 10, 26),
            "0100",
            "0200",
            "0",
            _utc(2014, 10, 25, 22),
            _utc(2014, 10, 25, 23),
            0,
        ),
        # 2010-03-28: 02:00 MSK -> 03:00 MSD; either way of writing the hour before the gap.
        (date(2010, 3, 28), "0100", "0200", None, _utc(2010, 3, 27, 22), _utc(2010, 3, 27, 23), 0),
        (date(2010, 3, 28), "0100", "0300", None, _utc(2010, 3, 27, 22), _utc(2010, 3, 27, 23), 0),
        (date(2010, 3, 28), "0300", "0400", None, _utc(2010, 3, 27, 23), _utc(2010, 3, 28, 0), 0),
    ],
)
def test_resolve_period(
    day: date,
    start: str,
    end: str,
    summer: str | None,
    start_utc: datetime,
    end_utc: datetime,
    flags: int,
) -> None:
    period, warning = resolve_period(day, MSK, start, end, summer)
    assert (period.start_utc, period.end_utc, period.flags) == (start_utc, end_utc, flags)
    assert warning is None
    assert period.summer == (summer == "1")
    assert flags in (0, Flag.SUMMER_REPEAT)


def test_summer_marker_on_an_ordinary_day_is_ignored_with_a_warning() -> None:
    period, warning = resolve_period(date(2024, 1, 15), MSK, "0100", "0130", "1")
    assert period.start_utc == _utc(2024, 1, 14, 22) and period.flags == 0
    assert warning is not None and "not repeated" in warning


def test_a_skipped_start_time_is_an_error() -> None:
    with pytest.raises(PeriodTimeError, match="does not exist"):
        resolve_period(date(2010, 3, 28), MSK, "0200", "0300", None)


def test_another_zone() -> None:
    period, _ = resolve_period(
        date(2024, 1, 15), ZoneInfo("Asia/Yekaterinburg"), "0000", "0030", None
    )
    assert period.start_utc == _utc(2024, 1, 14, 19)


@pytest.mark.parametrize(
    ("start", "end", "summer", "says"),
    [
        (None, "0100", None, "no start"),
        ("0000", None, None, "no end"),
        ("000", "0100", None, "not a time"),
        ("2500", "0100", None, "not a time"),
        ("0060", "0100", None, "not a time"),
        ("0a00", "0100", None, "not a time"),
        ("2430", "0000", None, "not a time"),
        ("2400", "0000", None, "end of the day"),
        ("0100", "0100", None, "not after"),
        ("0200", "0100", None, "not after"),
        ("0000", "0100", "yes", "summer"),
    ],
)
def test_bad_period_times(
    start: str | None, end: str | None, summer: str | None, says: str
) -> None:
    with pytest.raises(PeriodTimeError, match=says):
        check_period(start, end, summer)
