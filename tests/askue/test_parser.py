"""80020 structure and semantics: order, point kinds, periods, statuses, and bad parts dropped
with a located error while the rest is kept. Every case runs through both conversion paths."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from adapters.askue import (
    FormatError,
    ParsedFile,
    ReceiptStatus,
    UnknownChannelError,
    parse_bytes,
    to_readings,
)
from core.codes import Flag
from tests.askue.helpers import message, periods, point


@pytest.fixture(params=[True, False], ids=["bulk", "checked"])
def fast(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def _parse(data: bytes, fast: bool, **kw: object) -> ParsedFile:
    return parse_bytes(data, "t.xml", fast=fast, **kw)  # type: ignore[arg-type]


def _table(parsed: ParsedFile) -> list[tuple[str, str | None, str, str | None, int]]:
    return [
        (s.point.code, s.channel, p.start, None if v is None else str(v), f)
        for s in parsed.series
        for p, v, f in s.rows
    ]


def test_all_point_kinds_and_channels(fast: bool) -> None:
    body = (
        point("111", {"01": periods(["1.5", "2"]), "02": periods(["0", "0"])})
        + point("222", {"03": periods(["7"]), "4": periods(["8"])}, kind="accountpoint")
        + point("333", {"01": periods(["9"])}, kind="deliverypoint")
        + f'<deliverygroup code="G1" name="g">{periods(["10", "11"], minutes=60)}</deliverygroup>'
        + f'<peretok codefrom="A" codeto="B" name="p">{periods(["12"], minutes=60)}</peretok>'
    )
    parsed = _parse(message(body), fast)
    assert parsed.errors == ()
    assert [(s.point.kind, s.point.code, s.channel) for s in parsed.series] == [
        ("measuringpoint", "111", "01"),
        ("measuringpoint", "111", "02"),
        ("accountpoint", "222", "03"),
        ("accountpoint", "222", "04"),
        ("deliverypoint", "333", "01"),
        ("deliverygroup", "G1", None),
        ("peretok", "A-B", None),
    ]
    readings = to_readings(parsed)
    assert [(r.meter, r.channel, r.value) for r in readings] == [
        ("111", "1-0:1.8.0", 1.5),
        ("111", "1-0:1.8.0", 2.0),
        ("111", "1-0:2.8.0", 0.0),
        ("111", "1-0:2.8.0", 0.0),
        ("222", "1-0:3.8.0", 7.0),
        ("222", "1-0:4.8.0", 8.0),
        ("333", "1-0:1.8.0", 9.0),
        ("G1", "1-0:1.8.0", 10.0),
        ("G1", "1-0:1.8.0", 11.0),
        ("A-B", "1-0:1.8.0", 12.0),
    ]
    g = parsed.series[5]
    assert [p.end_utc - p.start_utc for p in g.periods] == [
        g.periods[1].start_utc - g.periods[0].start_utc
    ] * 2
    assert readings[7].ts == datetime(2024, 1, 14, 21, tzinfo=UTC)
    assert readings[7].end == datetime(2024, 1, 14, 22, tzinfo=UTC)
    assert parsed.series[0].point.area_inn == "7700000001"


def test_values_stay_exact_decimal_text(fast: bool) -> None:
    texts = ["0.500", "125", "0.000", "-3.25", "1E+3", " 7.10 "]
    parsed = _parse(message(point("1", {"01": periods(texts)})), fast)
    assert parsed.errors == ()
    assert [str(v) for v in parsed.series[0].values] == [
        "0.500",
        "125",
        "0.000",
        "-3.25",
        "1E+3",
        "7.10",
    ]
    assert parsed.series[0].values[0] == Decimal("0.5")


def test_element_order_does_not_matter(fast: bool) -> None:
    data = point("1", {"01": periods(["1", "2"])})
    normal = _parse(message(data), fast)
    shuffled_header = (
        "<sender><name>Отправитель</name><inn>7700000000</inn></sender>"
        "<datetime><day>20240115</day><daylightsavingtime>0</daylightsavingtime>"
        "<timestamp>20240116090000</timestamp></datetime>"
    )
    shuffled = _parse(message(data, header=shuffled_header), fast)
    # The header after the area: the day is not known while the periods are read.
    late = message(data, header="").replace(
        b"</area></message>",
        b"</area>" + shuffled_header.encode() + b"</message>",
    )
    late_parsed = _parse(late, fast)
    assert _table(normal) == _table(shuffled) == _table(late_parsed)
    assert [s.periods for s in normal.series] == [s.periods for s in late_parsed.series]
    assert normal.header == shuffled.header == late_parsed.header
    # Area INN after its points.
    after = message(data).replace(
        b"<inn>7700000001</inn><name>\xd0\xa0\xd0\xb0\xd0\xb9\xd0\xbe\xd0\xbd</name>", b""
    )
    after = after.replace(b"</area>", b"<name>R</name><inn>7700000009</inn></area>")
    assert _parse(after, fast).series[0].point.area_inn == "7700000009"


def test_windows_1251_and_utf8_parse_alike(fast: bool) -> None:
    body = point("1", {"01": periods(["1", "2"])})
    a = _parse(message(body, encoding="windows-1251"), fast)
    b = _parse(message(body, encoding="utf-8"), fast)
    assert _table(a) == _table(b)
    assert a.series[0].point.name == b.series[0].point.name == "Точка"
    assert a.header.sender_name == "Отправитель"


def test_pretty_printed_file(fast: bool) -> None:
    data = message(point("1", {"01": periods(["1", "2"])}))
    pretty = data.replace(b"><", b">\r\n    <")
    assert _table(_parse(pretty, fast)) == _table(_parse(data, fast))


def test_statuses_and_quality_marks(fast: bool) -> None:
    body = point(
        "1",
        {
            "01": (
                '<period start="0000" end="0030"><value status="0">1</value></period>'
                '<period start="0030" end="0100"><value status="1">2</value></period>'
                '<period start="0100" end="0130"><value>3</value></period>'
                '<period start="0130" end="0200"><value errofmeasuring="1">4</value></period>'
                '<period start="0200" end="0230"><value status="1" extendedstatus="5" '
                'param1="a" param2="b" param3="c">5</value></period>'
                '<period start="0230" end="0300"><value exstendedstatus="2">6</value></period>'
                '<period start="0300" end="0330"><value errofmeasuring="0">7</value></period>'
            )
        },
    )
    parsed = _parse(message(body), fast)
    assert parsed.errors == ()
    nc, me = Flag.NON_COMMERCIAL, Flag.MEASUREMENT_ERROR
    assert list(parsed.series[0].flags) == [0, nc, 0, me, nc | me, me, 0]
    assert parsed.non_commercial_count == 2
    assert parsed.receipt == ReceiptStatus.ACCEPTED_NON_COMMERCIAL
    attrs = {p.start: a for p, a in parsed.series[0].attributes.items()}
    assert attrs["0200"] == {"extendedstatus": "5", "param1": "a", "param2": "b", "param3": "c"}
    assert attrs["0230"] == {"exstendedstatus": "2"}
    assert attrs["0130"] == {"errofmeasuring": "1"}
    assert [r.flags for r in to_readings(parsed)] == list(parsed.series[0].flags)


def test_empty_values_are_counted_not_read(fast: bool) -> None:
    body = point(
        "1",
        {
            "01": '<period start="0000" end="0030"><value status="1"></value></period>'
            '<period start="0030" end="0100"><value/></period>'
            '<period start="0100" end="0130"></period>'
            '<period start="0130" end="0200"><value> </value></period>'
            '<period start="0200" end="0230"><value>4</value></period>'
        },
    )
    parsed = _parse(message(body), fast)
    assert parsed.errors == ()
    assert (parsed.value_count, parsed.empty_count) == (1, 4)
    assert [r.value for r in to_readings(parsed)] == [4.0]
    assert parsed.receipt == ReceiptStatus.ACCEPTED  # an empty non-commercial period is no value


@pytest.mark.parametrize("bad", ["12,5", "abc", "NaN", "Infinity", "1_000", "0x10", "1.2.3"])
def test_a_bad_value_is_named_and_the_rest_kept(fast: bool, bad: str) -> None:
    body = point("P1", {"01": periods(["1", bad, "3"]), "02": periods(["4"])})
    parsed = _parse(message(body), fast)
    assert _table(parsed) == [
        ("P1", "01", "0000", "1", 0),
        ("P1", "01", "0100", "3", 0),
        ("P1", "02", "0000", "4", 0),
    ]
    (err,) = parsed.errors
    assert isinstance(err, FormatError) and err.receipt == ReceiptStatus.REJECTED_FORMAT
    assert (err.file, err.point, err.channel, err.period) == ("t.xml", "P1", "01", "0030-0100")
    assert repr(bad) in str(err)
    assert parsed.receipt == ReceiptStatus.REJECTED_FORMAT


@pytest.mark.parametrize(
    ("attrs", "says"),
    [
        ('start="0030" end="0015"', "not after"),
        ('start="3000" end="0100"', "not a time"),
        ('end="0100"', "no start"),
        ('start="0030" end="0100" summer="x"', "summer"),
    ],
)
def test_a_bad_period_is_named_and_the_rest_kept(fast: bool, attrs: str, says: str) -> None:
    chan = (
        '<period start="0000" end="0030"><value>1</value></period>'
        f"<period {attrs}><value>2</value></period>"
        '<period start="0100" end="0130"><value>3</value></period>'
    )
    parsed = _parse(message(point("P", {"01": chan})), fast)
    assert [str(v) for v in parsed.series[0].values] == ["1", "3"]
    (err,) = parsed.errors
    assert says in str(err) and err.point == "P" and err.channel == "01"


def test_a_bad_status_is_named(fast: bool) -> None:
    chan = '<period start="0000" end="0030"><value status="7">1</value></period>'
    parsed = _parse(message(point("P", {"01": chan + periods(["5"])[0:0]})), fast)
    (err,) = parsed.errors
    assert "status='7'" in str(err) and err.period == "0000-0030"


def test_unknown_channel_is_rejected_with_receipt_2(fast: bool) -> None:
    body = point("P", {"01": periods(["1"]), "05": periods(["2"]), "XX": periods(["3"])})
    parsed = _parse(message(body), fast)
    assert _table(parsed) == [("P", "01", "0000", "1", 0)]
    assert [type(e) for e in parsed.errors] == [UnknownChannelError] * 2
    assert [e.channel for e in parsed.errors] == ["05", "XX"]
    assert parsed.receipt == ReceiptStatus.REJECTED_UNKNOWN_CHANNELS
    assert parsed.errors[0].reason == "unknown_channel"


def _in_channel(xml: str) -> str:
    channel = f'<measuringchannel code="01">{xml}</measuringchannel>'
    return f'<measuringpoint code="P">{channel}</measuringpoint>'


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            f'<measuringpoint code="P">{periods(["1"])}</measuringpoint>',
            "<period> inside <measuringpoint>",
        ),
        (
            '<measuringpoint name="x"><measuringchannel code="01">'
            + periods(["1"])
            + "</measuringchannel></measuringpoint>",
            "without a code",
        ),
        (f'<peretok codefrom="A">{periods(["1"])}</peretok>', "without codefrom and codeto"),
        (
            f'<measuringchannel code="01">{periods(["1"])}</measuringchannel>',
            "<measuringchannel> inside <area>",
        ),
        (
            _in_channel("<value>1</value>"),
            "<value> inside <measuringchannel>",
        ),
        (
            _in_channel(
                '<period start="0000" end="0030"><value>1</value><value>2</value></period>'
            ),
            "more than one <value>",
        ),
        (
            _in_channel('<period start="0000" end="0030"><value>1<b>2</b></value></period>'),
            "<b> inside <value>",
        ),
    ],
    ids=[
        "period-in-point",
        "point-without-code",
        "peretok-without-codes",
        "channel-in-area",
        "value-outside-period",
        "two-values",
        "element-in-value",
    ],
)
def test_misplaced_parts_are_reported_and_the_rest_kept(fast: bool, body: str, says: str) -> None:
    good = point("G", {"01": periods(["42"])})
    parsed = _parse(message(body + good), fast)
    assert says in str(parsed.errors[0])
    assert parsed.errors[0].line == 2 and parsed.errors[0].column is not None
    assert ("G", "01", "0000", "42", 0) in _table(parsed)
    assert parsed.receipt == ReceiptStatus.REJECTED_FORMAT


def test_a_point_listed_twice_is_merged_and_repeats_are_errors(fast: bool) -> None:
    body = point("P", {"01": periods(["1", "2"])}) + point("P", {"01": periods(["9"])})
    parsed = _parse(message(body), fast)
    assert _table(parsed) == [("P", "01", "0000", "1", 0), ("P", "01", "0030", "2", 0)]
    (err,) = parsed.errors
    assert "appears twice" in str(err) and err.period == "0000-0030"


def test_changeover_day_with_summer_marker(fast: bool) -> None:
    hours = [(f"{h:02d}00", f"{(h + 1) % 24:02d}00") for h in range(24)]
    hours.insert(3, ("0200", "0300"))  # 2010-10-31: 02:00-03:00 twice; the first is summer
    marker = ' summer="1"'
    chan = "".join(
        f'<period start="{s}" end="{e}"{marker if i == 2 else ""}><value>{i}</value></period>'
        for i, (s, e) in enumerate(hours)
    )
    parsed = _parse(message(point("P", {"01": chan}), day="20101031"), fast)
    assert parsed.errors == ()
    s = parsed.series[0]
    assert len(s.values) == 25
    starts = [p.start_utc for p in s.periods]
    assert starts == sorted(starts) and len(set(starts)) == 25
    assert starts[0] == datetime(2010, 10, 30, 20, tzinfo=UTC)
    assert s.periods[-1].end_utc == datetime(2010, 10, 31, 21, tzinfo=UTC)
    assert [f for f in s.flags] == [0, 0, Flag.SUMMER_REPEAT] + [0] * 22
    assert to_readings(parsed)[2].flags == Flag.SUMMER_REPEAT


def test_changeover_day_without_marker_reports_the_repeat(fast: bool) -> None:
    chan = (
        '<period start="0200" end="0300"><value>1</value></period>'
        '<period start="0200" end="0300"><value>2</value></period>'
    )
    parsed = _parse(message(point("P", {"01": chan}), day="20101031"), fast)
    assert [str(v) for v in parsed.series[0].values] == ["1"]
    (err,) = parsed.errors
    assert 'summer="1"' in str(err)


def test_a_skipped_hour_is_an_error(fast: bool) -> None:
    chan = periods(["1", "2", "3", "4", "5", "6"])  # 02:00-02:30 does not exist on 2010-03-28
    parsed = _parse(message(point("P", {"01": chan}), day="20100328"), fast)
    assert [e.period for e in parsed.errors] == ["0200-0230", "0230-0300"]
    assert "does not exist" in str(parsed.errors[0])
    assert len(parsed.series[0].values) == 4


def test_errors_are_capped_but_counted(fast: bool) -> None:
    parsed = _parse(message(point("P", {"01": periods(["x"] * 48)})), fast, max_errors=5)
    assert len(parsed.errors) == 5 and parsed.error_count == 48


def test_several_areas() -> None:
    data = message(point("A1", {"01": periods(["1"])})).replace(
        b"</area>",
        b'</area><area timezone="1"><inn>7700000002</inn>'
        + point("B1", {"01": periods(["2"])}).encode()
        + b"</area>",
    )
    parsed = parse_bytes(data)
    assert [s.point.area_inn for s in parsed.series] == ["7700000001", "7700000002"]
    assert parsed.header.area_inns == ("7700000001", "7700000002")
    assert parsed.header.areas[1].timezone == "1"


def test_unknown_zone_is_a_config_error() -> None:
    from core.errors import ConfigError

    with pytest.raises(ConfigError, match="Mars/Olympus"):
        parse_bytes(message(""), tz="Mars/Olympus")
