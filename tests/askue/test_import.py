"""80020 import into the real store: samples, corrections, idempotence, the inbox."""

from __future__ import annotations

import asyncio
import json
import os
import shutil

import asyncpg
import pytest

from adapters.store import ReadingStore
from api.cli import main
from api.runtime import migrate_url
from ingest.askue_import import AskueImporter
from ingest.file_import import FileImporter
from ingest.inbox import sweep
from tests.intake_tools import history_intake
from tests.samples import ASKUE, needs_askue

pytestmark = [pytest.mark.postgres, needs_askue]
SAMPLES = ASKUE
F810, F817, F811, F818, F812 = (
    SAMPLES / f"80020_600004_2008022{d}_{n}.xml"
    for d, n in (("7", 810), ("7", 817), ("8", 811), ("8", 818), ("9", 812))
)


@pytest.fixture
async def store(db_url):
    await migrate_url(db_url)
    s = await ReadingStore.open(db_url)
    yield s
    await s.close()


async def _values(store: ReadingStore) -> dict[tuple[str, str], float]:
    async with store.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT m.external_id, r.ts, r.value FROM readings r JOIN meters m ON m.id = r.meter_id"
        )
    return {(r["external_id"], r["ts"].isoformat()): r["value"] for r in rows}


async def test_samples_import_with_corrections_and_idempotence(store):
    importer = AskueImporter(history_intake(store))
    first = await importer.import_file(F810)
    assert (first.status, first.values, first.accepted, first.receipt) == ("imported", 48, 48, 0)
    before = await _values(store)
    correction = await importer.import_file(F817)
    assert correction.supersedes == [F810.name]
    assert correction.accepted == 0
    assert correction.superseded + correction.duplicates == 48
    after = await _values(store)
    assert set(after) == set(before)  # same keys: corrected, not duplicated
    changed = {k for k in after if after[k] != before[k]}
    assert len(changed) == correction.superseded
    rest = [await importer.import_file(f) for f in (F811, F818, F812)]
    assert [r.status for r in rest] == ["imported"] * 3
    assert rest[2].values == 0 and rest[2].receipt == 0  # a valid file with no values
    async with store.pool.acquire() as conn:
        corrections = await conn.fetchval("SELECT count(*) FROM corrections")
        superseded = await conn.fetch(
            "SELECT file_name FROM askue_files WHERE superseded_by IS NOT NULL ORDER BY 1"
        )
        first_start = await conn.fetchval(
            "SELECT min(ts) FROM readings r JOIN meters m ON m.id = r.meter_id"
            " WHERE m.external_id = 'GMORDOV1'"
        )
        kinds = await conn.fetch("SELECT DISTINCT kind, end_ts - ts AS span FROM readings")
    assert corrections == correction.superseded + rest[1].superseded
    assert [r["file_name"] for r in superseded] == [F810.name, F811.name]
    assert first_start.isoformat() == "2008-02-26T21:00:00+00:00"  # 0000 Moscow, UTC+3
    assert [(k["kind"], k["span"].total_seconds()) for k in kinds] == [(1, 3600.0)]
    stats = await store.stats()
    assert stats["readings"] == 2 * 2 * 24  # 2 days x 2 points x 24 hours
    stored = await _values(store)
    again = [await importer.import_file(f) for f in (F810, F817, F811, F818, F812)]
    assert {r.status for r in again} == {"already_imported"}
    assert await _values(store) == stored and (await store.stats()) == stats


async def test_an_older_file_after_its_correction_changes_nothing(store):
    importer = AskueImporter(history_intake(store))
    await importer.import_file(F817)
    corrected = await _values(store)
    late = await importer.import_file(F810)
    assert late.superseded_by == F817.name
    assert late.accepted == 0 and late.superseded + late.duplicates == 48
    assert await _values(store) == corrected


async def test_inbox_moves_files_with_reports_and_survives_bad_ones(store, tmp_path):
    inbox = tmp_path / "inbox" / "askue"
    inbox.mkdir(parents=True)
    for f in (F810, F817):
        shutil.copy(f, inbox / f.name)
    (inbox / "broken.xml").write_bytes(b"<?xml version='1.0'?><message class='80020'><datetime>")
    (inbox / "xxe.xml").write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<message class="80020" version="2" number="1">&x;</message>'
    )
    (inbox / "notes.txt").write_text("not for the importer")
    old = 1_000_000_000
    for p in inbox.iterdir():
        os.utime(p, (old, old))
    reports = await sweep(FileImporter(history_intake(store), home=tmp_path), tmp_path)
    assert {r.file: r.status for r in reports} == {
        F810.name: "imported",
        F817.name: "imported",
        "broken.xml": "failed",
        "xxe.xml": "failed",
    }
    done = sorted(p.name for p in (inbox / "done").iterdir())
    failed = sorted(p.name for p in (inbox / "failed").iterdir())
    assert done == sorted([F810.name, F810.name + ".report.json", F817.name,
                           F817.name + ".report.json"])  # fmt: skip
    assert failed == ["broken.xml", "broken.xml.report.json", "xxe.xml", "xxe.xml.report.json"]
    xxe = json.loads((inbox / "failed" / "xxe.xml.report.json").read_text())
    assert xxe["receipt"] == 4 and "DOCTYPE" in xxe["error"].upper()
    assert sorted(p.name for p in inbox.iterdir() if p.is_file()) == ["notes.txt"]
    assert (await store.stats())["readings"] == 48


async def test_import_command_reports_and_exit_codes(db_url, monkeypatch, capsys, tmp_path):
    await migrate_url(db_url)
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    bad = tmp_path / "bad.xml"
    bad.write_text("this is not xml")
    code = await asyncio.to_thread(main, ["askue", "import", str(F810), str(bad), str(F817)])
    out = capsys.readouterr().out.splitlines()
    assert code == 1
    assert out[0].startswith(f"{F810.name}: номер 810, статус 80021 0: значений 48, принято 48")
    assert out[1].startswith("bad.xml: ОШИБКА (статус 80021 4)")
    assert f"исправляет {F810.name}" in out[2]
    code = await asyncio.to_thread(main, ["askue", "import", "--json", str(F810)])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["status"] == "already_imported"
    conn = await asyncpg.connect(db_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM readings") == 48
    finally:
        await conn.close()
