"""The real 80020 files of 2008 (shared/samples/askue): groups, peretok, correction, empty day."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.askue import ReceiptStatus, latest, parse_file, to_readings
from core.reading import Kind
from tests.samples import ASKUE, needs_askue

pytestmark = needs_askue
SAMPLES = ASKUE
FILES = sorted(SAMPLES.glob("80020_*.xml"))


def _raw_values(path: Path) -> list[str]:
    # Independent of the parser: the value texts in document order, by plain text search.
    text = path.read_bytes().decode("cp1251")
    out = []
    for chunk in text.split("<value")[1:]:
        out.append(chunk.split(">", 1)[1].split("</value", 1)[0])
    return out


def test_the_samples_are_there() -> None:
    assert len(FILES) == 5


@pytest.mark.parametrize("path", FILES[:4], ids=lambda p: p.name)
def test_each_day_file_has_24_hourly_values_for_two_points(path: Path) -> None:
    parsed = parse_file(path)
    assert parsed.errors == () and parsed.warnings == ()
    assert [(s.point.kind, s.point.code, s.channel) for s in parsed.series] == [
        ("deliverygroup", "GMORDOV1", None),
        ("peretok", "PMORDOVE-PMORDOV1", None),
    ]
    for s in parsed.series:
        assert len(s.values) == 24
        assert [p.end_utc - p.start_utc for p in s.periods] == [
            s.periods[0].end_utc - s.periods[0].start_utc
        ] * 24
        assert all(b.start_utc == a.end_utc for a, b in zip(s.periods, s.periods[1:], strict=False))
    texts = [str(v) for s in parsed.series for v in s.values]
    assert texts == _raw_values(path)
    assert parsed.receipt == ReceiptStatus.ACCEPTED
    assert parsed.header.sender_inn == "600004"
    assert parsed.header.sender_name == "Мордовское РДУ"
    assert parsed.header.area_inns == ("600004",)
    assert parsed.header.dst == 0


def test_first_period_of_2008_02_27_starts_at_21_utc_the_day_before() -> None:
    parsed = parse_file(SAMPLES / "80020_600004_20080227_810.xml")
    first = parsed.series[0].periods[0]
    assert (first.start, first.end) == ("0000", "0100")
    assert first.start_utc == datetime(2008, 2, 26, 21, tzinfo=UTC)
    assert first.end_utc == datetime(2008, 2, 26, 22, tzinfo=UTC)
    last = parsed.series[0].periods[-1]
    assert (last.start, last.end) == ("2300", "0000")
    assert last.end_utc == datetime(2008, 2, 27, 21, tzinfo=UTC)
    assert parsed.series[0].values[0] == Decimal("230952")
    assert parsed.header.day == date(2008, 2, 27)
    # Created 2008-03-20 10:38:04 Moscow time (UTC+3 then).
    assert parsed.header.created == datetime(2008, 3, 20, 7, 38, 4, tzinfo=UTC)


def test_817_is_a_later_number_for_the_same_day_as_810() -> None:
    a = parse_file(SAMPLES / "80020_600004_20080227_810.xml")
    b = parse_file(SAMPLES / "80020_600004_20080227_817.xml")
    assert a.key == b.key == ("600004", date(2008, 2, 27))
    assert (a.header.number, b.header.number) == (810, 817)
    assert latest([b, a]) == [b]
    assert latest(parse_file(p) for p in FILES) == [
        parse_file(SAMPLES / n)
        for n in (
            "80020_600004_20080227_817.xml",
            "80020_600004_20080228_818.xml",
            "80020_600004_20080229_812.xml",
        )
    ]


def test_2008_02_29_is_valid_with_no_values() -> None:
    parsed = parse_file(SAMPLES / "80020_600004_20080229_812.xml")
    assert parsed.errors == ()
    assert parsed.value_count == 0
    assert parsed.empty_count == 48
    assert to_readings(parsed) == []
    assert parsed.receipt == ReceiptStatus.ACCEPTED


def test_readings_of_a_sample() -> None:
    parsed = parse_file(SAMPLES / "80020_600004_20080228_811.xml")
    readings = to_readings(parsed)
    assert len(readings) == 48
    r = readings[24]
    assert (r.meter, r.channel, r.kind, r.source) == (
        "PMORDOVE-PMORDOV1",
        "1-0:1.8.0",
        Kind.INTERVAL,
        "askue",
    )
    assert r.ts == datetime(2008, 2, 27, 21, tzinfo=UTC)
    assert r.end == datetime(2008, 2, 27, 22, tzinfo=UTC)
    assert r.value == float(parsed.series[1].values[0])
