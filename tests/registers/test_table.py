"""Register exports without a store: numbers, encodings, delimiters, dates, mappings, detection."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from adapters.registers.csvfile import decode, read_rows, sniff_delimiter
from adapters.registers.dispatch import detect_mapping, file_kind
from adapters.registers.errors import RegisterFileError
from adapters.registers.importer import read_table
from adapters.registers.mapping import (
    Mapping,
    available_mappings,
    find_mapping,
    load_mapping_file,
    mapping_dirs,
)
from adapters.registers.table import parse_number
from core.batch import to_us
from core.errors import ConfigError
from tests.registers.files import comma, contractor_csv, contractor_xlsx, piramida_csv

SHIPPED = available_mappings(mapping_dirs(None))
PIRAMIDA, CONTRACTOR = SHIPPED["piramida_t1t2"], SHIPPED["contractor_water"]
MSK = ZoneInfo("Europe/Moscow")


def _us(*args: int, tz: ZoneInfo = MSK) -> int:
    return to_us(datetime(*args, tzinfo=tz).astimezone(UTC))


@pytest.mark.parametrize(
    ("cell", "decimal", "expected"),
    [
        ("1234,56", "auto", 1234.56),
        ("1234.56", "auto", 1234.56),
        ("1 234,56", ",", 1234.56),
        ("1\xa0234,5", "auto", 1234.5),
        ("1.234,56", "auto", 1234.56),
        ("1,234.56", "auto", 1234.56),
        ("-3", "auto", -3.0),
        ("0012,5", ",", 12.5),
        ("12.5", ",", None),  # a point where the mapping says comma: a wrong mapping
        ("12,5", ".", None),
        ("12x,5", "auto", None),
        ("1,2,3", "auto", None),
        ("nan", "auto", None),
        ("inf", "auto", None),
        ("1e5", "auto", None),
        ("", "auto", None),
        ("—", "auto", None),
        (12.5, ",", 12.5),  # an XLSX number cell: no text rules
        (7, "auto", 7.0),
        (float("nan"), "auto", None),
        (True, "auto", None),
    ],
)
def test_parse_number(cell: object, decimal: str, expected: float | None) -> None:
    assert parse_number(cell, decimal) == expected


def test_decode_finds_the_encoding_and_names_bad_bytes() -> None:
    text = "Заводской номер;Т1\r\n"
    assert decode(text.encode("windows-1251"), "auto", file="f") == (text, "windows-1251")
    assert decode(text.encode("utf-8"), "auto", file="f") == (text, "utf-8")
    assert decode(b"\xef\xbb\xbf" + text.encode(), "windows-1251", file="f") == (text, "utf-8")
    with pytest.raises(RegisterFileError) as err:
        decode(b"ok\nok\n" + text.encode("windows-1251"), "utf-8", file="f.csv")
    assert err.value.line == 3 and "f.csv, row 3" in str(err.value)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["a;b;c", "1;2,5;3", "4;5,5;6"], ";"),
        (["a,b,c", '1,"2,5",3', '4,"5,5",6'], ","),
        (["a\tb\tc", "1\t2,5\t3"], "\t"),
        (["a|b", "1,5|2,5"], "|"),
    ],
)
def test_sniff_delimiter(lines: list[str], expected: str) -> None:
    assert sniff_delimiter(lines) == expected


def test_csv_rows_keep_the_file_line_numbers() -> None:
    data = b'title\r\n\r\nh1;h2\r\n"multi\r\nline";x\r\nlast;y\r\n'
    rows, encoding, delimiter = read_rows(
        data, encoding="auto", delimiter="auto", skip_rows=2, file="f"
    )
    assert (encoding, delimiter) == ("utf-8", ";")
    assert [(n, c[0]) for n, c in rows] == [(3, "h1"), (4, "multi\r\nline"), (6, "last")]


@pytest.mark.parametrize("encoding", ["windows-1251", "utf-8"])
def test_piramida_layout_in_both_encodings(tmp_path: Path, encoding: str) -> None:
    rows = [
        ("011234567", "100012345", "01.03.2026", "1234,56", "567,89"),
        ("011234568", "100012346", "01.03.2026 08:30", "0,5", ""),  # single-rate meter
        ("011234569", "100012347", "28.02.2026", "15 000,25", "7 000"),
    ]
    path = piramida_csv(tmp_path / "p.csv", rows, encoding=encoding)
    table, _, (used, delimiter) = read_table(path, PIRAMIDA, tz="Europe/Moscow", max_bytes=10**6)
    assert (used, delimiter) == (encoding, ";")
    assert (table.data_rows, table.skipped_rows, table.problems) == (3, 1, [])  # 1: "Итого"
    cols = table.cols
    got = list(zip(table.rows, cols.meter, cols.channel, cols.ts, cols.value, strict=True))
    assert got == [
        (5, "011234567", "1-0:1.8.1", _us(2026, 3, 1), 1234.56),
        (5, "011234567", "1-0:1.8.2", _us(2026, 3, 1), 567.89),
        (6, "011234568", "1-0:1.8.1", _us(2026, 3, 1, 8, 30), 0.5),
        (7, "011234569", "1-0:1.8.1", _us(2026, 2, 28), 15000.25),
        (7, "011234569", "1-0:1.8.2", _us(2026, 2, 28), 7000.0),
    ]
    assert table.hints["011234568"] == (6, "100012346", None)


def test_bad_rows_become_problems_with_row_numbers(tmp_path: Path) -> None:
    rows = [
        ("S1", "A1", "01.03.2026", "12x,5", "7,5"),  # T1 bad, T2 good
        ("", "A2", "01.03.2026", "1,0", "2,0"),  # no serial
        ("S3", "A3", "31.02.2026", "1,0", "2,0"),  # no such date
        ("S4", "A4", "01.03.2026", "", ""),  # no reading at all
        ("S5", "A5", "01.03.2026", "3,0", "4,0"),
    ]
    path = piramida_csv(tmp_path / "bad.csv", rows, encoding="windows-1251")
    table, _, _ = read_table(path, PIRAMIDA, tz="Europe/Moscow", max_bytes=10**6)
    assert [(p.row, p.reason, p.meter) for p in table.problems] == [
        (5, "malformed", "S1"),
        (6, "malformed", None),
        (7, "malformed", "S3"),
        (8, "malformed", "S4"),
    ]
    details = [p.detail for p in table.problems]
    assert "'12x,5' is not a number" in details[0] and "Т1" in details[0]
    assert "no meter serial" in details[1] and "'31.02.2026'" in details[2]
    assert all(p.detail.startswith(f"bad.csv, row {p.row}: ") for p in table.problems)
    assert json.loads(table.problems[0].payload)["value"] == "12x,5"
    assert list(zip(table.rows, table.cols.meter, table.cols.value, strict=True)) == [
        (5, "S1", 7.5),
        (9, "S5", 3.0),
        (9, "S5", 4.0),
    ]


def test_contractor_layout_xlsx_and_csv_read_alike(tmp_path: Path) -> None:
    rows = [
        ("5001", "ХВС", "W1", date(2026, 3, 25), 123.456, "м3"),
        ("5001", "ГВС", "W2", date(2026, 3, 25), "45,6", "м3"),  # a number typed as text
        ("5002", "холодная  вода", "W3", date(2026, 3, 24), 98765.0, "л"),
        ("5002", "Пар", "W4", date(2026, 3, 24), 1.0, "м3"),
        ("5003", "ХВС", "W5", date(2026, 3, 24), 2.0, "бочка"),
    ]
    expected = [
        (4, "W1", "cold_water", _us(2026, 3, 25), 123.456),
        (5, "W2", "hot_water", _us(2026, 3, 25), 45.6),
        (6, "W3", "cold_water", _us(2026, 3, 24), 98.765),
    ]
    book = contractor_xlsx(tmp_path / "c.xlsx", rows)
    csv_rows = [(*r[:4], comma(r[4]) if isinstance(r[4], float) else r[4], r[5]) for r in rows]
    text = contractor_csv(tmp_path / "c.csv", csv_rows, encoding="windows-1251", delimiter=",")
    for path in (book, text):
        table, _, _ = read_table(path, CONTRACTOR, tz="Europe/Moscow", max_bytes=10**6)
        cols = table.cols
        got = list(zip(table.rows, cols.meter, cols.channel, cols.ts, cols.value, strict=True))
        assert [g[:4] for g in got] == [e[:4] for e in expected]
        assert [g[4] for g in got] == pytest.approx([e[4] for e in expected], abs=0.005)
        assert [(p.row, p.reason) for p in table.problems] == [
            (7, "unknown_channel"),
            (8, "unknown_unit"),
        ]
        assert table.hints["W3"] == (6, "5002", None)


@pytest.mark.parametrize(
    ("extra", "cell", "expected"),
    [
        ({}, "01.03.2026", (2026, 3, 1, 0, 0)),
        ({"time_of_day": "12:00"}, "01.03.2026", (2026, 3, 1, 12, 0)),
        ({"time_of_day": "12:00"}, "01.03.2026 08:15", (2026, 3, 1, 8, 15)),
        ({"timezone": "Asia/Yekaterinburg"}, "01.03.2026", (2026, 3, 1, 0, 0)),
    ],
)
def test_dates_without_a_time_and_zones(
    tmp_path: Path, extra: dict[str, str], cell: str, expected: tuple[int, ...]
) -> None:
    mapping = Mapping.model_validate({**PIRAMIDA.model_dump(), **extra})
    path = piramida_csv(tmp_path / "d.csv", [("S", "A", cell, "1", "")])
    table, _, _ = read_table(path, mapping, tz="Europe/Moscow", max_bytes=10**6)
    zone = ZoneInfo(extra.get("timezone", "Europe/Moscow"))
    assert table.cols.ts == [_us(*expected, tz=zone)]


def test_a_missing_column_fails_the_file_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a\nb\nc\n№;Заводской номер;Дата;Т1, кВт*ч\n1;S;01.03.2026;1\n")
    with pytest.raises(RegisterFileError) as err:
        read_table(path, PIRAMIDA, tz="Europe/Moscow", max_bytes=10**6)
    message = str(err.value)
    assert "x.csv, row 4" in message and "'Т2, кВт*ч'" in message and "'Лицевой счёт'" in message


def test_limits_and_wrong_format(tmp_path: Path) -> None:
    path = piramida_csv(tmp_path / "p.csv", [("S", "A", "01.03.2026", "1", "")])
    with pytest.raises(RegisterFileError, match="larger than the limit"):
        read_table(path, PIRAMIDA, tz="Europe/Moscow", max_bytes=10)
    book = contractor_xlsx(tmp_path / "c.xlsx", [])
    with pytest.raises(RegisterFileError, match="for CSV"):
        read_table(book, PIRAMIDA, tz="Europe/Moscow", max_bytes=10**6)
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04 this is no workbook")
    with pytest.raises(RegisterFileError, match="XLSX"):
        read_table(fake, CONTRACTOR, tz="Europe/Moscow", max_bytes=10**6)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"values": [{"column": "T1", "channel": "1-0:1.8.x"}]}, ["values.0.channel", "1.8.x"]),
        ({"header": False}, ["position"]),
        ({"service": "Услуга"}, ["services"]),
        ({"colums": 1}, ["colums"]),
        ({"delimiter": ";;"}, ["delimiter"]),
        ({"time_of_day": "25:00"}, ["time_of_day"]),
        ({"timezone": "Mars/Olympus"}, ["Mars/Olympus"]),
    ],
)
def test_bad_mappings_are_named(tmp_path: Path, change: dict[str, object], words: list[str]):
    path = tmp_path / "m.json"
    path.write_text(json.dumps({**PIRAMIDA.model_dump(), **change}), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_mapping_file(path)
    assert str(err.value).startswith(f"mapping {path}: ")
    for word in words:
        assert word in str(err.value)


def test_detection_by_content(tmp_path: Path) -> None:
    rows = [("5001", "ХВС", "W1", date(2026, 3, 25), 1.5, "м3")]
    cases = {
        piramida_csv(tmp_path / "p.txt", [("S", "A", "01.03.2026", "1", "")]): "piramida_t1t2",
        contractor_xlsx(tmp_path / "c.bin", rows): "contractor_water",
        contractor_csv(tmp_path / "c.csv", rows, encoding="windows-1251"): "contractor_water",
    }
    for path, name in cases.items():
        kind = file_kind(path, path.read_bytes()[:512])
        assert detect_mapping(path, kind, SHIPPED).name == name
    other = tmp_path / "other.csv"
    other.write_text("Счётчик;Когда;Сколько\nS;01.03.2026;1\n", encoding="utf-8")
    with pytest.raises(RegisterFileError) as err:
        detect_mapping(other, "csv", SHIPPED)
    assert "piramida_t1t2 (missing" in str(err.value) and "--mapping" in str(err.value)
    # a site mapping for that layout, in $UCHET_HOME/mappings, is found and then fits
    site = tmp_path / "home" / "mappings"
    site.mkdir(parents=True)
    (site / "mine.json").write_text(
        json.dumps(
            {
                "name": "mine",
                "format": "csv",
                "meter": "Счётчик",
                "date": "Когда",
                "values": [{"column": "Сколько", "channel": "cold_water"}],
            }
        ),
        encoding="utf-8",
    )
    known = available_mappings(mapping_dirs(tmp_path / "home"))
    assert detect_mapping(other, "csv", known).name == "mine"
    assert find_mapping("mine", mapping_dirs(tmp_path / "home")).name == "mine"
    assert find_mapping(str(site / "mine.json"), []).name == "mine"
    with pytest.raises(
        ConfigError,
        match="known: aiiskue_profile, contractor_water, mine, piramida_t1t2, rmon_hourly",
    ):
        find_mapping("nosuch", mapping_dirs(tmp_path / "home"))
    twin = {**known, "twin": known["mine"].model_copy(update={"name": "twin"})}
    with pytest.raises(RegisterFileError, match="several mappings fit: mine, twin"):
        detect_mapping(other, "csv", twin)
