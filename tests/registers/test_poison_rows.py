"""Poison rows in register exports: dates with no UTC instant, absurd numbers, NUL bytes and
unusable serials. Each is a problem of its row with a named reason; the rows around it are read,
and nothing a PostgreSQL text column refuses (NUL) reaches a problem's detail or meter."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.registers import csvfile, xlsxfile
from adapters.registers.errors import RegisterFileError
from adapters.registers.mapping import Mapping, available_mappings, mapping_dirs
from adapters.registers.table import Table, TableReader
from core.batch import to_us
from tests.registers.files import contractor_xlsx, piramida_csv

SHIPPED = available_mappings(mapping_dirs(None))
PIRAMIDA, CONTRACTOR = SHIPPED["piramida_t1t2"], SHIPPED["contractor_water"]
GOOD = ("S1", "A1", "01.03.2026", "1,5", "2,5")
LAST = ("S9", "A9", "02.03.2026", "3,5", "")


def _csv(path: Path, mapping: Mapping = PIRAMIDA) -> Table:
    rows, _, _ = csvfile.read_rows(
        path.read_bytes(), encoding="auto", delimiter="auto", skip_rows=mapping.skip_rows,
        file=path.name,
    )  # fmt: skip
    return TableReader(mapping, tz="Europe/Moscow", file=path.name).read(rows)


def _problems(table: Table) -> list[tuple[int, str, str | None]]:
    return [(p.row, p.reason, p.meter) for p in table.problems]


def _good_rows_kept(table: Table) -> None:
    assert list(zip(table.rows, table.cols.meter, table.cols.value, strict=True)) == [
        (5, "S1", 1.5),
        (5, "S1", 2.5),
        (7, "S9", 3.5),
    ]


def _clean(table: Table) -> None:
    for p in table.problems:
        assert "\x00" not in p.detail and "\x00" not in (p.meter or "")
        assert p.detail.startswith(f"p.csv, row {p.row}: ")
        assert len(p.detail) < 400
        json.loads(p.payload)  # the raw row is kept, as JSON (NUL escaped)


@pytest.mark.parametrize(
    ("zone", "day", "formats"),
    [
        ("Europe/Moscow", "01.01.0001", None),  # 00:00 MSK is year 0 in UTC
        ("Etc/GMT+1", "31.12.9999 23:59", None),  # UTC-1: already year 10000 in UTC
        ("Europe/Moscow", "31.12.9999 23:59 -01:00", ["%d.%m.%Y %H:%M %z"]),  # offset in the cell
        ("Europe/Moscow", "01.01.0001 00:30 +01:00", ["%d.%m.%Y %H:%M %z"]),
    ],
)
def test_a_date_with_no_utc_instant(
    tmp_path: Path, zone: str, day: str, formats: list[str] | None
) -> None:
    change: dict[str, object] = {"timezone": zone}
    if formats:
        change["date_format"] = [*PIRAMIDA.date_format, *formats]
    mapping = Mapping.model_validate({**PIRAMIDA.model_dump(), **change})
    path = piramida_csv(tmp_path / "p.csv", [GOOD, ("S2", "A2", day, "1,0", ""), LAST])
    table = _csv(path, mapping)
    assert _problems(table) == [(6, "timestamp_out_of_range", "S2")]
    assert "cannot be represented in UTC" in table.problems[0].detail
    _clean(table)
    _good_rows_kept(table)


def test_an_offset_written_in_the_cell_is_used(tmp_path: Path) -> None:
    formats = [*PIRAMIDA.date_format, "%d.%m.%Y %H:%M %z"]
    mapping = Mapping.model_validate({**PIRAMIDA.model_dump(), "date_format": formats})
    path = piramida_csv(tmp_path / "p.csv", [("S", "A", "01.03.2026 10:00 +05:00", "1", "")])
    table = _csv(path, mapping)
    assert table.cols.ts == [to_us(datetime(2026, 3, 1, 5, 0, tzinfo=UTC))]  # not Moscow's


@pytest.mark.parametrize(
    ("value", "reason", "says"),
    [
        ("9" * 400, "value_too_large", "(400 characters) is beyond the ceiling of 1,000,000,"),
        ("1 000 000 000 001", "value_too_large", "beyond the ceiling"),
        ("-1000000000001", "value_too_large", "beyond the ceiling"),
        ("1e300", "malformed", "is not a number"),
        ("nan", "malformed", "is not a number"),
        ("12\x005", "malformed", "is not a number"),
    ],
)
def test_an_absurd_number_is_a_problem_of_its_row(
    tmp_path: Path, value: str, reason: str, says: str
) -> None:
    path = piramida_csv(tmp_path / "p.csv", [GOOD, ("S2", "A2", "01.03.2026", value, ""), LAST])
    table = _csv(path)
    assert _problems(table) == [(6, reason, "S2")]
    assert says in table.problems[0].detail
    _clean(table)
    _good_rows_kept(table)


@pytest.mark.parametrize(
    ("serial", "says"),
    [
        ("S\x002", "NUL, control"),
        ("\x00", "NUL, control"),
        ("S\x1b[31m", "NUL, control"),
        ("7" * 4000, "4000 characters, more than 200"),
    ],
    ids=["nul-inside", "nul-only", "escape", "4000-chars"],
)
def test_a_serial_readings_cannot_be_keyed_by(tmp_path: Path, serial: str, says: str) -> None:
    path = piramida_csv(tmp_path / "p.csv", [GOOD, (serial, "A2", "01.03.2026", "1", ""), LAST])
    table = _csv(path)
    assert _problems(table) == [(6, "invalid_identifier", None)]
    assert says in table.problems[0].detail
    assert json.loads(table.problems[0].payload)["serial"] == serial
    assert set(table.hints) == {"S1", "S9"}
    _clean(table)
    _good_rows_kept(table)


def test_nul_in_a_date_and_in_an_account(tmp_path: Path) -> None:
    rows = [
        GOOD,
        ("S2", "A2", "01.03\x00.2026", "1", ""),
        ("S3", "A\x003", "01.03.2026", "", ""),  # no value: a problem; its account is no hint
    ]
    path = piramida_csv(tmp_path / "p.csv", [*rows, LAST])
    table = _csv(path)
    assert _problems(table) == [(6, "malformed", "S2"), (7, "malformed", "S3")]
    assert table.hints["S3"] == (7, None, None)
    _clean(table)


def test_nul_bytes_at_the_start_refuse_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes("Заводской номер;Дата\r\nS1;01.03.2026\r\n".encode("utf-16-le"))
    with pytest.raises(RegisterFileError, match="NUL bytes all through its start"):
        _csv(path)


def test_xlsx_number_cells_beyond_the_ceiling(tmp_path: Path) -> None:
    rows = [
        ("5001", "ХВС", "W1", datetime(2026, 3, 1), 1e300, "м3"),
        ("5001", "ХВС", "W2", datetime(2026, 3, 1), 12.5, "м3"),
        ("5001", "ХВС", "W3", datetime(1, 1, 1), 13.5, "м3"),  # midnight of year 1 in Moscow
        ("5001", "ХВС", "W4", datetime(2026, 3, 1), 1e15, "л"),  # 1e12 m3 after conversion
    ]
    path = contractor_xlsx(tmp_path / "c.xlsx", rows)  # type: ignore[arg-type]
    cells = xlsxfile.read_rows(path, sheet=None, skip_rows=CONTRACTOR.skip_rows, file="c.xlsx")
    table = TableReader(CONTRACTOR, tz="Europe/Moscow", file="c.xlsx").read(cells)
    assert [(p.row, p.reason, p.meter) for p in table.problems] == [
        (4, "value_too_large", "W1"),
        (6, "timestamp_out_of_range", "W3"),
    ]
    assert "m3" in table.problems[0].detail
    assert list(zip(table.rows, table.cols.meter, table.cols.value, strict=True)) == [
        (5, "W2", 12.5),
        (7, "W4", 1e12),
    ]
