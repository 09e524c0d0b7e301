"""Poison inside an 80020 file: days and times with no UTC instant, absurd numbers, unusable
point codes, NUL bytes. Each is a located error of its part; the rest of the file is read, and
nothing but an AskueError ever leaves the parser. Every case runs through both conversion paths.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.askue import ParsedFile, parse_bytes, to_readings
from adapters.askue.errors import (
    AskueError,
    InvalidIdentifierError,
    NotXmlError,
    TimeOutOfRangeError,
    ValueTooLargeError,
)
from core.codes import Reason
from tests.askue.helpers import message, periods, point


@pytest.fixture(params=[True, False], ids=["bulk", "checked"])
def fast(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def _parse(data: bytes, fast: bool, **kw: object) -> ParsedFile:
    return parse_bytes(data, "poison.xml", fast=fast, **kw)  # type: ignore[arg-type]


def _values(parsed: ParsedFile) -> dict[tuple[str, str], str]:
    return {(s.point.code, p.start): str(v) for s in parsed.series for p, v, _ in s.rows}


DAY = [str(i) for i in range(1, 49)]  # a whole day of half hours: the last ends at 0000


@pytest.mark.parametrize(
    ("day", "tz", "bad_starts"),
    [
        # the last period ends at 0000 of 10000-01-01
        ("99991231", "Europe/Moscow", {"2330"}),
        # UTC-1: from 23:00 local it is year 10000 in UTC (22:30-23:00 ends there)
        ("99991231", "Etc/GMT+1", {"2230", "2300", "2330"}),
        # UTC+3: the first three hours of year 1 are before 0001-01-01 in UTC
        ("00010101", "Europe/Moscow", {f"{h:02d}{m:02d}" for h in range(3) for m in (0, 30)}),
    ],
    ids=["9999-moscow", "9999-minus-1", "0001-moscow"],
)
def test_a_day_at_the_edge_of_the_calendar(
    fast: bool, day: str, tz: str, bad_starts: set[str]
) -> None:
    data = message(point("P1", {"01": periods(DAY)}), day=day)
    parsed = _parse(data, fast, tz=tz)
    bad = {e.period.split("-")[0] for e in parsed.errors if e.period}
    assert bad == bad_starts
    for e in parsed.errors:
        assert isinstance(e, TimeOutOfRangeError)
        assert e.reason == Reason.TIMESTAMP_OUT_OF_RANGE
        assert e.point == "P1" and e.channel == "01"
        assert str(e).startswith("poison.xml: point P1, channel 01, period ")
        assert "cannot be represented in UTC" in str(e)
    assert parsed.value_count == 48 - len(bad_starts)
    assert len(to_readings(parsed)) == 48 - len(bad_starts)


@pytest.mark.parametrize("stamp", ["00010101000000", "99991231235959"], ids=["year-1", "year-9999"])
def test_a_header_timestamp_out_of_range(fast: bool, stamp: str) -> None:
    data = message(point("P1", {"01": periods(["1", "2"])})).replace(
        b"20240116090000", stamp.encode()
    )
    parsed = _parse(data, fast, tz="Etc/GMT+1" if stamp.startswith("9") else "Europe/Moscow")
    assert parsed.header.created is None
    [e] = parsed.errors
    assert isinstance(e, TimeOutOfRangeError) and "<timestamp>" in str(e)
    assert parsed.value_count == 2


@pytest.mark.parametrize(
    ("text", "cls", "says"),
    [
        ("1e300", ValueTooLargeError, "beyond the ceiling of 1,000,000,000,000"),
        ("-1e300", ValueTooLargeError, "beyond the ceiling"),
        ("1e999999999", ValueTooLargeError, "beyond the ceiling"),
        ("9" * 400, ValueTooLargeError, "(400 characters) is beyond the ceiling"),
        ("1000000000000.5", ValueTooLargeError, "beyond the ceiling"),
        ("inf", AskueError, "is not a number"),
        ("-Infinity", AskueError, "is not a number"),
        ("nan", AskueError, "is not a number"),
        ("sNaN", AskueError, "is not a number"),
    ],
)
def test_an_absurd_number_is_an_error_of_its_period(
    fast: bool, text: str, cls: type[AskueError], says: str
) -> None:
    data = message(point("P1", {"01": periods(["1.5", text, "2.25"])}))
    parsed = _parse(data, fast)
    [e] = parsed.errors
    assert isinstance(e, cls) and says in str(e)
    assert (e.point, e.channel, e.period) == ("P1", "01", "0030-0100")
    assert len(str(e)) < 300  # a huge number is not copied whole into the error
    assert _values(parsed) == {("P1", "0000"): "1.5", ("P1", "0100"): "2.25"}
    assert [r.value for r in to_readings(parsed)] == [1.5, 2.25]


def test_the_ceiling_is_an_option(fast: bool) -> None:
    data = message(point("P1", {"01": periods(["1e300", "1000000000000"])}))
    assert _parse(data, fast).value_count == 1  # 1e12 itself is within
    parsed = _parse(data, fast, max_value=Decimal("1e400"))
    assert parsed.value_count == 2 and not parsed.errors


@pytest.mark.parametrize(
    ("code", "says"),
    [("7" * 4000, "4000 characters, more than 200"), ("P\x7f1", "non-printing")],
    ids=["4000-chars", "control-char"],
)
def test_a_point_code_readings_cannot_be_keyed_by(fast: bool, code: str, says: str) -> None:
    body = point(code, {"01": periods(["1"])}) + point("GOOD", {"01": periods(["2"])})
    parsed = _parse(message(body), fast)
    [e] = parsed.errors
    assert isinstance(e, InvalidIdentifierError) and says in str(e)
    assert e.reason == Reason.INVALID_IDENTIFIER and e.line is not None
    assert len(str(e)) < 300
    assert _values(parsed) == {("GOOD", "0000"): "2"}


def test_a_nul_byte_is_named_with_its_line() -> None:
    data = message(point("P1", {"01": periods(["1", "2"])})).replace(b">2<", b">2\x00<")
    with pytest.raises(NotXmlError, match="a NUL byte") as info:
        parse_bytes(data, "nul.xml")
    assert info.value.line == 2 and info.value.column is not None
