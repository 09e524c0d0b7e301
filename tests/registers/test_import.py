"""Register exports into the store: both layouts, bad rows by row, re-import, inbox, CLI."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from adapters.registers.mapping import available_mappings, mapping_dirs
from adapters.store import ReadingStore
from api.cli import main
from api.runtime import migrate_url
from ingest.file_import import FileImporter
from ingest.inbox import sweep
from ingest.register_import import RegisterImporter
from tests.conftest import SHARED
from tests.intake_tools import history_intake
from tests.registers.files import comma, contractor_csv, contractor_xlsx, piramida_csv
from tests.samples import needs_askue

pytestmark = pytest.mark.postgres
SHIPPED = available_mappings(mapping_dirs(None))
PIRAMIDA, CONTRACTOR = SHIPPED["piramida_t1t2"], SHIPPED["contractor_water"]
MSK = ZoneInfo("Europe/Moscow")
F810 = SHARED / "samples" / "askue" / "80020_600004_20080227_810.xml"


@pytest.fixture
async def store(db_url):
    await migrate_url(db_url)
    s = await ReadingStore.open(db_url)
    yield s
    await s.close()


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=MSK).astimezone(UTC)


async def _readings(store: ReadingStore) -> dict[tuple[str, str, datetime], float]:
    async with store.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT m.external_id, m.channel, r.ts, r.value FROM readings r"
            " JOIN meters m ON m.id = r.meter_id"
        )
    return {(r["external_id"], r["channel"], r["ts"]): r["value"] for r in rows}


async def _state(store: ReadingStore) -> dict[str, object]:
    async with store.pool.acquire() as conn:
        quarantine = await conn.fetch(
            "SELECT reason, detail, meter, channel, payload FROM quarantine ORDER BY id"
        )
        meters = await conn.fetch("SELECT source, external_id, channel FROM meters ORDER BY id")
        conflicts = await conn.fetchval("SELECT count(*) FROM conflicts")
    return {
        "readings": await _readings(store),
        "quarantine": [tuple(r) for r in quarantine],
        "meters": [tuple(r) for r in meters],
        "conflicts": conflicts,
    }


def _piramida_month(day: date, n: int, base: float) -> list[tuple[str, str, str, str, str]]:
    text = day.strftime("%d.%m.%Y")
    return [
        (f"0{1000000 + i}", f"10{i:05d}", text, comma(base + i), comma(base / 2 + i))
        for i in range(n)
    ]


@pytest.mark.parametrize("encoding", ["windows-1251", "utf-8"])
async def test_piramida_months_in_either_encoding(store, tmp_path, encoding):
    march, april = date(2026, 3, 1), date(2026, 4, 1)
    rows = _piramida_month(march, 5, 1000.25)
    first = piramida_csv(tmp_path / "m03.csv", rows, encoding=encoding)
    importer = RegisterImporter(history_intake(store))
    report = await importer.import_file(first, PIRAMIDA)
    assert (report.status, report.encoding, report.delimiter) == ("imported", encoding, ";")
    assert (report.rows, report.values, report.stored, report.duplicates) == (5, 10, 10, 0)
    assert report.new_meter_count == 10 and report.quarantined == {}
    assert report.new_meters[0] == {
        "meter": "01000000",
        "channel": "1-0:1.8.1",
        "account": "1000000",
        "premise": None,
        "row": 5,
        "registered": True,
    }
    second = piramida_csv(tmp_path / "m04.csv", _piramida_month(april, 5, 1100.75))
    again = await importer.import_file(second, PIRAMIDA)
    assert (again.stored, again.new_meter_count) == (10, 0)
    stored = await _readings(store)
    assert stored[("01000003", "1-0:1.8.1", _utc(march))] == 1003.25
    t2 = float(comma(1100.75 / 2 + 3).replace(",", "."))  # as the file spelled it
    assert stored[("01000003", "1-0:1.8.2", _utc(april))] == t2
    assert len(stored) == 20
    async with store.pool.acquire() as conn:
        unbound = await conn.fetchval(
            "SELECT count(*) FROM meters WHERE source = 'askue_csv' AND premise_id IS NULL"
        )
    assert unbound == 10


async def test_contractor_layout_xlsx_and_csv(store, tmp_path):
    day = date(2026, 3, 25)
    rows = [
        ("5001", "ХВС", "W1", day, 123.456, "м3"),
        ("5001", "ГВС", "W2", day, "45,6", "м3"),
        ("5002", "Холодная вода", "W3", day, 98765.0, "л"),
    ]
    book = contractor_xlsx(tmp_path / "c.xlsx", rows)
    importer = FileImporter(history_intake(store))
    report = await importer.import_file(book)
    assert (report.mapping, report.stored, report.problem_count) == ("contractor_water", 3, 0)
    assert {(m["meter"], m["channel"], m["account"]) for m in report.new_meters} == {
        ("W1", "cold_water", "5001"),
        ("W2", "hot_water", "5001"),
        ("W3", "cold_water", "5002"),
    }
    stored = await _readings(store)
    assert stored[("W2", "hot_water", _utc(day))] == 45.6
    assert stored[("W3", "cold_water", _utc(day))] == pytest.approx(98.765)
    # the same sheet saved as CSV in windows-1251 with decimal commas: all duplicates
    csv_rows = [(*r[:4], comma(r[4]) if isinstance(r[4], float) else r[4], r[5]) for r in rows]
    csv_rows[0] = (*csv_rows[0][:4], "123,456", "м3")
    text = contractor_csv(tmp_path / "c.csv", csv_rows, encoding="windows-1251")
    before = await _state(store)
    twin = await importer.import_file(text)
    assert (twin.mapping, twin.encoding, twin.stored, twin.duplicates) == (
        "contractor_water",
        "windows-1251",
        0,
        3,
    )
    assert await _state(store) == before


async def test_bad_rows_are_quarantined_by_row_and_the_good_ones_stored(store, tmp_path):
    march = piramida_csv(tmp_path / "m03.csv", _piramida_month(date(2026, 3, 1), 6, 500.0))
    await RegisterImporter(history_intake(store)).import_file(march, PIRAMIDA)
    # April: registry rule "quarantine" for meters never seen before
    importer = RegisterImporter(history_intake(store, unknown_meters="quarantine"))
    rows = _piramida_month(date(2026, 4, 1), 6, 600.0)
    rows[1] = (*rows[1][:3], "6o1,00", rows[1][4])  # text in a number column (T1)
    rows[2] = (*rows[2][:3], "499,00", rows[2][4])  # lower than March's 502,00
    rows[3] = (*rows[3][:2], "01.04.2099", *rows[3][3:])  # a date in the future
    rows.insert(4, ("09999999", "1099999", "01.04.2026", "10,00", "5,00"))  # unknown meter
    path = piramida_csv(tmp_path / "m04.csv", rows)
    before = await _readings(store)
    report = await importer.import_file(path, PIRAMIDA)
    # row n of the data is file line n + 4 (three title lines and the header)
    assert report.quarantined_rows == {
        "malformed": [6],
        "register_rollback": [7],
        "future_timestamp": [8],
        "unknown_meter": [9],
    }
    assert report.quarantined == {
        "malformed": 1,
        "register_rollback": 1,
        "future_timestamp": 2,
        "unknown_meter": 2,
    }
    assert report.stored == 7 * 2 - 6  # 7 rows of two zones, 6 values quarantined
    assert {(m["meter"], m["registered"]) for m in report.new_meters} == {("09999999", False)}
    after = await _readings(store)
    april = _utc(date(2026, 4, 1))
    new = {k: v for k, v in after.items() if k not in before}
    assert len(new) == report.stored
    assert ("01000002", "1-0:1.8.2", april) in new and ("01000002", "1-0:1.8.1", april) not in new
    assert ("01000001", "1-0:1.8.2", april) in new
    assert new[("01000005", "1-0:1.8.1", april)] == 605.0
    async with store.pool.acquire() as conn:
        quarantine = await conn.fetch("SELECT reason, detail FROM quarantine ORDER BY detail")
    assert sorted(r["reason"] for r in quarantine) == sorted(
        ["malformed", "register_rollback", *["future_timestamp"] * 2, *["unknown_meter"] * 2]
    )
    assert all(r["detail"].startswith("m04.csv, row ") for r in quarantine)
    rollback = next(r["detail"] for r in quarantine if r["reason"] == "register_rollback")
    assert rollback.startswith("m04.csv, row 7: value 499.0 < previous 502.0")
    assert [p["row"] for p in report.problems] == [6, 7, 8, 8, 9, 9]
    summary = report.summary()
    assert "quarantined register_rollback 1 (rows 7)" in summary

    # re-import: the same file changes nothing at all
    state = await _state(store)
    repeat = await importer.import_file(path, PIRAMIDA)
    assert repeat.status == "already_imported"
    assert await _state(store) == state
    # the same rows under another name and encoding: duplicates, and nothing quarantined twice
    copy = piramida_csv(tmp_path / "m04-again.csv", rows, encoding="utf-8")
    twin = await importer.import_file(copy, PIRAMIDA)
    assert (twin.status, twin.stored, twin.duplicates) == ("imported", 0, report.stored)
    assert (twin.already_quarantined, twin.quarantined) == (6, {})
    assert await _state(store) == state


@needs_askue
async def test_inbox_takes_register_exports_beside_80020(store, tmp_path):
    inbox = tmp_path / "inbox" / "askue"
    inbox.mkdir(parents=True)
    piramida_csv(inbox / "piramida.csv", _piramida_month(date(2026, 3, 1), 3, 10.0))
    contractor_xlsx(inbox / "water.xlsx", [("1", "ГВС", "W9", date(2026, 3, 20), 7.5, "м3")])
    shutil.copy(F810, inbox / F810.name)
    (inbox / "odd.csv").write_text("Счётчик;Когда;Сколько\nS;01.03.2026;1\n", encoding="utf-8")
    (inbox / "broken.xlsx").write_bytes(b"PK\x03\x04 not really")
    (inbox / "notes.txt").write_text("not for the importer")
    old = 1_000_000_000
    for p in inbox.iterdir():
        os.utime(p, (old, old))
    reports = await sweep(FileImporter(history_intake(store), home=tmp_path), tmp_path)
    assert {r.file: r.status for r in reports} == {
        "piramida.csv": "imported",
        "water.xlsx": "imported",
        F810.name: "imported",
        "odd.csv": "failed",
        "broken.xlsx": "failed",
    }
    failed = sorted(p.name for p in (inbox / "failed").iterdir())
    assert failed == ["broken.xlsx", "broken.xlsx.report.json", "odd.csv", "odd.csv.report.json"]
    odd = json.loads((inbox / "failed" / "odd.csv.report.json").read_text())
    assert "no csv mapping fits" in odd["error"] and "--mapping" in odd["error"]
    done = json.loads((inbox / "done" / "piramida.csv.report.json").read_text())
    assert (done["mapping"], done["stored"], done["new_meter_count"]) == ("piramida_t1t2", 6, 6)
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == ["notes.txt"]
    assert (await store.stats())["readings"] == 48 + 6 + 1


async def test_import_command(db_url, monkeypatch, capsys, tmp_path):
    await migrate_url(db_url)
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    monkeypatch.setenv("UCHET_HOME", str(tmp_path / "home"))
    rows = _piramida_month(date(2026, 3, 1), 2, 10.0)
    rows[1] = (*rows[1][:3], "n/a", rows[1][4])
    good = piramida_csv(tmp_path / "p.csv", rows)
    renamed = shutil.copy(good, tmp_path / "p.dat")
    code = await asyncio.to_thread(main, ["askue", "import", str(good)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out == [
        "p.csv (шаблон piramida_t1t2): строк 2, значений 3, сохранено 3, дубликатов 0,"
        " в карантине malformed 1 (строки 6), новых счётчиков 3"
    ]
    code = await asyncio.to_thread(
        main, ["askue", "import", "--json", "--mapping", "piramida_t1t2", str(renamed)]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and (report["file"], report["status"]) == ("p.dat", "already_imported")
    code = await asyncio.to_thread(
        main, ["askue", "import", "--mapping", "contractor_water", str(good)]
    )
    assert code == 1 and "p.csv: ОШИБКА: " in capsys.readouterr().out
    code = await asyncio.to_thread(main, ["askue", "import", "--mapping", "nosuch", str(good)])
    assert code == 2 and "no mapping named 'nosuch'" in capsys.readouterr().err
    conn = await asyncpg.connect(db_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM readings") == 3
    finally:
        await conn.close()
