"""Real 80020-family files (four producers) into the real store: every value accounted for.

The files are third-party and live in ``../shared/samples/real-askue/`` (never copied here);
where that folder is absent the tests are skipped with the reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from adapters.askue import ReceiptStatus, parse_file
from adapters.store import ReadingStore
from api.runtime import migrate_url
from ingest.askue_import import AskueImporter
from ingest.file_import import FileImporter
from tests.conftest import SHARED
from tests.intake_tools import history_intake

REAL = SHARED / "samples" / "real-askue"
_ABSENT = f"needs the real 80020 samples in {REAL} (../shared beside the repository)"
pytestmark = [pytest.mark.postgres, pytest.mark.skipif(not REAL.is_dir(), reason=_ABSENT)]

ALPHA_316 = "80020_5244009279_20180919_6582_5200003900.xml"
FSK = "80020_4716016979_20190909_37_5200011200.xml"
SEDMAX_80040 = "sedmax_converted_80040_output.xml"
IZH = "80020_1834024515_20211031_4690_5600010900.xml"
_VALUE = re.compile(rb"<value\b[^>]*>\s*[^<\s]")


def _files() -> list[Path]:
    return sorted(REAL.glob("*.xml"))


def _written_values(path: Path) -> int:
    """Non-empty <value> elements, counted in the raw bytes (independent of the parser)."""
    return len(_VALUE.findall(path.read_bytes()))


@pytest.fixture
async def store(db_url):
    await migrate_url(db_url)
    s = await ReadingStore.open(db_url)
    yield s
    await s.close()


async def _count(store: ReadingStore, sql: str, *args: object) -> int:
    async with store.pool.acquire() as conn:
        return int(await conn.fetchval(sql, *args))


def _placed(report) -> int:
    r = report
    return r.accepted + r.duplicates + r.superseded + r.conflicts + sum(r.quarantined.values())


async def test_every_real_value_is_stored_or_quarantined(store) -> None:
    files = _files()
    assert len(files) == 8
    importer = FileImporter(history_intake(store))
    reports = [await importer.import_file(f) for f in files]
    for f, r in zip(files, reports, strict=True):
        assert r.status == "imported", r.as_dict()
        written = _written_values(f)
        # every value written in the file: stored, a duplicate, or quarantined with a reason
        assert _placed(r) == written, (f.name, r.as_dict())
        if r.receipt <= ReceiptStatus.ACCEPTED_NON_COMMERCIAL:
            assert r.rejected_count == 0 and r.unknown_channel_values == 0
            # the 80040 file is the 80020 one converted: same sender, day, number and values
            same = f"differs in its bytes, not in its values ({r.values} duplicates)"
            assert r.note is None or same in r.note
        else:  # a receipt that rejects says what was imported and what was not
            assert sum(r.quarantined.values()) > 0 and r.rejected_count > 0
            assert r.note is not None and "imported" in r.note, r.as_dict()
    stored = sum(r.accepted for r in reports)
    assert stored == await _count(store, "SELECT count(*) FROM readings")
    quarantined = sum(sum(r.quarantined.values()) for r in reports)
    assert quarantined == await _count(store, "SELECT count(*) FROM quarantine")
    assert stored > 45_000


async def test_alphacentr_316_channels_11_to_14_are_read_by_their_description(store) -> None:
    path = REAL / ALPHA_316
    report = await AskueImporter(history_intake(store)).import_file(path)
    read = [c for c in report.channels_read if c["code"] in ("11", "12", "13", "14")]
    assert {(c["code"], c["read_as"]) for c in read} == {
        ("11", "01"),
        ("12", "02"),
        ("13", "03"),
        ("14", "04"),
    }
    assert len(read) == 10  # 3 + 2 + 3 + 2 channels, 48 values each
    assert report.receipt == ReceiptStatus.ACCEPTED and report.unknown_channel_values == 0
    assert report.accepted == report.values == _written_values(path)
    async with store.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT m.external_id, m.channel, count(*) AS n FROM readings r"
            " JOIN meters m ON m.id = r.meter_id"
            " WHERE m.external_id = ANY($1::text[]) GROUP BY 1, 2",
            [c["point"] for c in read],
        )
    assert sum(r["n"] for r in rows) == 480
    assert {(r["external_id"], r["channel"]) for r in rows} >= {
        ("522070001107101", "1-0:1.8.0"),
        ("522070001107101", "1-0:3.8.0"),
        ("522070001214101", "1-0:2.8.0"),
        ("522070001214101", "1-0:4.8.0"),
    }


async def test_channels_refused_by_the_table_are_quarantined_value_by_value(store) -> None:
    path = REAL / ALPHA_316
    table = {"11": "", "12": "", "13": "", "14": ""}
    importer = AskueImporter(history_intake(store), channels=table)
    report = await importer.import_file(path)
    assert report.status == "imported"
    assert report.receipt == ReceiptStatus.REJECTED_UNKNOWN_CHANNELS
    assert report.unknown_channel_values == 480
    assert report.quarantined["unknown_channel"] == 480
    assert report.accepted == report.values - 480 == _written_values(path) - 480
    assert report.note and "480 values are quarantined unknown_channel" in report.note
    assert "unknown channels quarantined" in report.summary()
    async with store.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT detail, meter, channel, payload FROM quarantine"
            " WHERE reason = 'unknown_channel'"
        )
    assert len(rows) == 480
    first = json.loads(bytes(rows[0]["payload"]))
    assert {"file", "point", "channel", "desc", "period", "start", "value"} <= set(first)
    assert rows[0]["channel"] in ("11", "12", "13", "14")
    assert "refuses code" in rows[0]["detail"] and f"point {rows[0]['meter']}" in rows[0]["detail"]


async def test_the_80040_class_is_read_like_80020(store) -> None:
    path = REAL / SEDMAX_80040
    report = await AskueImporter(history_intake(store)).import_file(path)
    assert (report.status, report.message_class, report.receipt) == ("imported", "80040", 0)
    assert report.accepted == _written_values(path) == 192


async def test_extendedstatus_and_the_substitute_point_are_kept(store) -> None:
    path = REAL / FSK
    report = await AskueImporter(history_intake(store)).import_file(path)
    kept: dict[tuple[str, str], int] = {}
    for e in report.extended_statuses:
        key = (e["param1"], e["extendedstatus"])
        kept[key] = kept.get(key, 0) + e["values"]
    assert kept == {
        ("522050012207107", "1114"): 96,
        ("522050008207106", "1114"): 56,
        ("000000000000000", "1114"): 150,
    }
    flagged = await _count(store, "SELECT count(*) FROM readings WHERE flags & 64 <> 0")
    assert flagged == 302
    async with store.pool.acquire() as conn:
        saved = await conn.fetchval(
            "SELECT report FROM askue_files WHERE file_name = $1", path.name
        )
    saved = json.loads(saved) if isinstance(saved, str) else saved
    assert any(e["param1"] == "522050012207107" for e in saved["extended_statuses"])


def test_area_timezone_1_is_moscow_whatever_the_setting() -> None:
    moscow = parse_file(REAL / SEDMAX_80040, tz="Europe/Moscow")
    elsewhere = parse_file(REAL / SEDMAX_80040, tz="Asia/Yekaterinburg")
    assert moscow.header.areas[0].timezone == "1"
    first = elsewhere.series[0].periods[0]
    assert first.start_utc == moscow.series[0].periods[0].start_utc
    assert first.start_utc.isoformat() == "2022-03-21T21:00:00+00:00"  # 0000 Moscow, UTC+3


def test_area_timezone_as_a_zone_or_offset_is_used() -> None:
    data = (REAL / SEDMAX_80040).read_bytes()
    from adapters.askue import parse_bytes

    for attr in (b"Asia/Yekaterinburg", b"+05:00", b"UTC+5"):
        parsed = parse_bytes(data.replace(b'timezone="1"', b'timezone="' + attr + b'"'))
        assert parsed.series[0].periods[0].start_utc.isoformat() == "2022-03-21T19:00:00+00:00"
    odd = parse_bytes(data.replace(b'timezone="1"', b'timezone="moon"'))
    assert any("moon" in w for w in odd.warnings)


async def test_a_resent_number_with_edited_values_says_what_happened(store) -> None:
    importer = AskueImporter(history_intake(store))
    first = await importer.import_file(REAL / IZH)
    assert first.accepted == 192
    edited = REAL / "variants" / IZH
    again = await importer.import_file(edited)
    assert again.status == "imported" and again.accepted == 0
    assert (again.conflicts, again.duplicates) == (96, 96)
    assert again.note is not None and "already imported from" in again.note
    assert "96 values that differ are recorded as conflicts" in again.note
    assert "conflicts 96 (stored values kept)" in again.summary()
    assert await _count(store, "SELECT count(*) FROM conflicts") == 96


async def test_the_site_channel_table_is_read_from_uchet_home(store, tmp_path) -> None:
    (tmp_path / "askue-channels.json").write_text(json.dumps({"11": "", "13": "R-"}))
    importer = FileImporter(history_intake(store), home=tmp_path)
    report = await importer.import_file(REAL / ALPHA_316)
    assert report.unknown_channel_values == 3 * 48  # the three channels 11
    assert {(c["code"], c["read_as"]) for c in report.channels_read} == {
        ("12", "02"),
        ("13", "04"),  # the table wins over the description (реакт. прием)
        ("14", "04"),
    }
    assert report.receipt == ReceiptStatus.REJECTED_UNKNOWN_CHANNELS
    assert report.quarantined["unknown_channel"] == 3 * 48
