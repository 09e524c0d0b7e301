"""Real ASKUE spreadsheet exports (per-meter interval profiles, CSV/XLSX/XLS) into the store.

The files are third-party and live in ``../shared/samples/real-registers/`` (never copied here);
where that folder is absent the tests are skipped with the reason.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest

from adapters.registers import xlsfile
from adapters.registers.dispatch import file_kind
from adapters.store import ReadingStore
from api.runtime import migrate_url
from ingest.file_import import FileImporter
from tests.conftest import SHARED
from tests.intake_tools import history_intake

REAL = SHARED / "samples" / "real-registers"
_ABSENT = f"needs the real register exports in {REAL} (../shared beside the repository)"
pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not REAL.is_dir(), reason=_ABSENT)]

PROFILES = {  # file -> the meter serial its name carries
    "aiiskue__import_csv_123246181.csv": "123246181",
    "aiiskue__import_csv_24487237.csv": "24487237",
    "aiiskue__import_csv_31408497_2.xlsx": "31408497",
    "aiiskue__import_csv_34765100.xlsx": "34765100",
    "aiiskue__import_csv_csv_0318082747.csv": "0318082747",
}


def _cells(path: Path) -> list[list[object]]:
    """The data rows of a profile (header dropped), read without uchet's code."""
    if path.suffix == ".csv":
        text = path.read_bytes().decode("windows-1251")
        return [r for r in csv.reader(io.StringIO(text), delimiter=";")][1:]
    book = openpyxl.load_workbook(path, read_only=True)
    return [list(r) for r in book.worksheets[0].iter_rows(values_only=True)][1:]


def _written(path: Path) -> int:
    """Non-empty P+ and R+ cells."""
    return sum(1 for row in _cells(path) for c in row[1:3] if c not in (None, ""))


@pytest.fixture
async def store(db_url):
    await migrate_url(db_url)
    s = await ReadingStore.open(db_url)
    yield s
    await s.close()


async def test_interval_profiles_import_with_the_shipped_mapping(store) -> None:
    importer = FileImporter(history_intake(store))
    stored = 0
    for name, meter in PROFILES.items():
        path = REAL / name
        report = await importer.import_file(path)
        assert (report.status, report.mapping) == ("imported", "aiiskue_profile"), report.error
        placed = report.stored + report.duplicates + report.conflicts
        assert placed + sum(report.quarantined.values()) == report.values == _written(path)
        assert report.new_meter_count == 2 and {m["meter"] for m in report.new_meters} == {meter}
        stored += report.stored
    async with store.pool.acquire() as conn:
        total = await conn.fetchval("SELECT count(*) FROM readings")
        rows = await conn.fetch(
            "SELECT m.channel, r.ts, r.end_ts, r.value, r.kind FROM readings r"
            " JOIN meters m ON m.id = r.meter_id WHERE m.external_id = '123246181'"
            " ORDER BY r.ts, m.channel"
        )
    assert total == stored
    # first row: "2;0,0813;0,0000;00:30;30.12.2020": the half hour ENDING 00:30 Moscow,
    # average power 0.0813 kW -> 0.04065 kWh
    first = rows[0]
    assert first["ts"] == datetime(2020, 12, 29, 21, 0, tzinfo=UTC)
    assert first["end_ts"] == datetime(2020, 12, 29, 21, 30, tzinfo=UTC)
    assert (first["channel"], first["value"]) == ("1-0:1.8.0", pytest.approx(0.04065))
    assert {r["channel"] for r in rows} == {"1-0:1.8.0", "1-0:3.8.0"}
    assert {r["kind"] for r in rows} == {1}  # interval


async def test_empty_intervals_are_counted_not_quarantined(store) -> None:
    path = REAL / "aiiskue__import_csv_24487237.csv"
    report = await FileImporter(history_intake(store)).import_file(path)
    empty = sum(1 for row in _cells(path) if all(c in (None, "") for c in row[1:3]))
    assert empty == 672 and report.empty_intervals == empty
    assert sum(report.quarantined.values()) == 0
    assert "intervals without values 672" in report.summary()


@pytest.mark.parametrize("name", ["aiiskue__import_csv_24487237.xls", "rmon__24x31.xls"])
def test_legacy_xls_is_a_workbook_never_csv(name: str) -> None:
    path = REAL / name
    assert file_kind(path, path.read_bytes()[:512]) == "xls"


async def test_legacy_xls_is_read_or_refused_by_name(store, monkeypatch) -> None:
    importer = FileImporter(history_intake(store))
    empty = await importer.import_file(REAL / "aiiskue__import_csv_24487237.xls")
    assert empty.status == "failed"
    if xlsfile.supported():  # xlrd reads it: the sheet is empty (the export saved nothing)
        assert "sheet is empty" in (empty.error or "")
    monkeypatch.setattr(xlsfile, "_xlrd", lambda: None)
    for name in ("aiiskue__import_csv_24487237.xls", "rmon__31x24.xls"):
        report = await importer.import_file(REAL / name)
        assert report.status == "failed"
        assert "XLS is not supported, save as XLSX" in (report.error or "")
        assert "windows-1251" not in (report.error or "")


async def test_hourly_xls_of_a_supplier_imports_with_the_meter_from_its_title(store) -> None:
    xlrd = pytest.importorskip("xlrd", reason="xlrd reads .xls (a dependency of uchet)")
    importer = FileImporter(history_intake(store))
    first = await importer.import_file(REAL / "rmon__24x31.xls")
    assert (first.status, first.mapping) == ("imported", "rmon_hourly"), first.error
    assert first.stored == first.values == 672  # 28 days x 24 hours
    assert [m["meter"] for m in first.new_meters] == ["531a68_1"]
    # the same hours laid out the other way round: nothing new
    again = await importer.import_file(REAL / "rmon__31x24.xls")
    assert (again.status, again.stored, again.duplicates) == ("imported", 0, 672)
    # read without uchet: the 'Накопление' list, and the hours x days table of the first sheet
    book = xlrd.open_workbook(REAL / "rmon__24x31.xls")
    hours = book.sheet_by_name("Накопление")
    listed = [hours.cell_value(r, 1) for r in range(hours.nrows)]
    table = book.sheet_by_index(0)
    days = [
        r for r in range(table.nrows) if re.fullmatch(r"\d\d\.02\.2021", table.cell_value(r, 0))
    ]
    grid = [v for r in days for v in table.row_values(r)[2:26]]
    async with store.pool.acquire() as conn:
        stored = [r["value"] for r in await conn.fetch("SELECT value FROM readings ORDER BY ts")]
        first_ts, last_end = await conn.fetchrow("SELECT min(ts), max(end_ts) FROM readings")
    assert stored == listed
    # the supplier's two sheets disagree on the month's last three hours (by 1 kWh each):
    # the list is imported as it is
    differ = [i for i, (a, b) in enumerate(zip(listed, grid, strict=True)) if a != b]
    assert len(grid) == 672 and differ == [669, 670, 671]
    # 2021-02-01T01:00 is the end of the first hour (00-01 Moscow); the month ends 03-01 00:00
    assert first_ts == datetime(2021, 1, 31, 21, 0, tzinfo=UTC)
    assert last_end == datetime(2021, 2, 28, 21, 0, tzinfo=UTC)
