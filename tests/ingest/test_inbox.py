"""The inbox against poison files, with the real importers and PostgreSQL: a poison file goes to
failed/ with a report naming it and the cause, the good files beside it are imported, and a
store outage keeps a file for the next sweep."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from adapters.store import ReadingStore
from api.runtime import migrate_url
from core.errors import StoreError
from ingest.file_import import FileImporter
from ingest.inbox import sweep
from tests.askue.helpers import message, periods, point
from tests.intake_tools import history_intake
from tests.registers.files import piramida_csv

pytestmark = pytest.mark.postgres
OLD = 1_000_000_000


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[ReadingStore]:
    await migrate_url(db_url)
    s = await ReadingStore.open(db_url)
    yield s
    await s.close()


class Exploding:
    """The real importer, except that files named ``boom*`` raise what a bug would raise."""

    def __init__(self, inner: FileImporter, exc: BaseException) -> None:
        self.inner, self.exc, self.calls = inner, exc, []

    async def import_file(self, path: Path) -> Any:
        self.calls.append(path.name)
        if path.name.startswith("boom"):
            raise self.exc
        return await self.inner.import_file(path)


def _settled(inbox: Path) -> None:
    for p in inbox.iterdir():
        os.utime(p, (OLD, OLD), follow_symlinks=False)


def _day(values: str = "1.5") -> bytes:
    return message(point("P1", {"01": periods([values] * 48)}), day="20240115")


async def _quarantine(store: ReadingStore) -> list[tuple[str, str]]:
    async with store.pool.acquire() as conn:
        rows = await conn.fetch("SELECT reason, detail FROM quarantine ORDER BY id")
    return [(r["reason"], r["detail"]) for r in rows]


async def test_a_poison_file_beside_good_ones(
    store: ReadingStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = tmp_path / "inbox" / "askue"
    inbox.mkdir(parents=True)
    (inbox / "a-good.xml").write_bytes(_day())
    # the day 9999-12-31: its last half hour has no UTC instant; the rest is read
    (inbox / "b-day9999.xml").write_bytes(
        message(point("P9", {"01": periods(["2"] * 48)}), day="99991231")
    )
    (inbox / "boom.xml").write_bytes(_day("3"))
    piramida_csv(
        inbox / "c-rows.csv",
        [
            ("S1", "A1", "01.03.2024", "10,5", "5,5"),
            ("S2", "A2", "01.01.0001", "1,0", ""),  # no UTC instant in Moscow
            ("S\x003", "A3", "01.03.2024", "1,0", ""),  # NUL in the serial
            ("S4", "A4", "01.03.2024", "9" * 400, ""),  # 1e400
        ],
    )
    _settled(inbox)
    sink = Exploding(
        FileImporter(history_intake(store), home=tmp_path), OverflowError("date value out of range")
    )
    with caplog.at_level(logging.INFO, logger="ingest.inbox"):
        reports = await sweep(sink, tmp_path)
    assert {r.file: r.status for r in reports} == {
        "a-good.xml": "imported",
        "b-day9999.xml": "imported",
        "boom.xml": "failed",
        "c-rows.csv": "imported",
    }
    assert sink.calls == ["a-good.xml", "b-day9999.xml", "boom.xml", "c-rows.csv"]
    failed = sorted(p.name for p in (inbox / "failed").iterdir())
    assert failed == ["boom.xml", "boom.xml.report.json"]
    boom = json.loads((inbox / "failed" / "boom.xml.report.json").read_text())
    assert boom == {
        "file": "boom.xml",
        "status": "failed",
        "error": "import failed: OverflowError: date value out of range",
    }
    crash_logs = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(crash_logs) == 1 and "boom.xml" in crash_logs[0].getMessage()
    assert crash_logs[0].exc_info is not None
    done = sorted(p.name for p in (inbox / "done").iterdir())
    assert done == sorted(
        f"{n}{s}"
        for n in ("a-good.xml", "b-day9999.xml", "c-rows.csv")
        for s in ("", ".report.json")
    )
    day9999 = json.loads((inbox / "done" / "b-day9999.xml.report.json").read_text())
    assert day9999["rejected_count"] == 1
    assert sorted(r for r in os.listdir(inbox) if not r.startswith(".")) == ["done", "failed"]
    assert os.listdir(inbox / ".work") == []
    # the good values of every file are stored, the poison rows are quarantined by name
    # (the year 9999 is in the future: quarantined by the intake, not dropped)
    assert (await store.stats())["readings"] == 48 + 2
    reasons = {reason for reason, _ in await _quarantine(store)}
    assert reasons == {
        "future_timestamp",
        "timestamp_out_of_range",
        "invalid_identifier",
        "value_too_large",
    }
    assert all(d.startswith("c-rows.csv, row ") for r, d in await _quarantine(store)
               if r in ("invalid_identifier", "value_too_large"))  # fmt: skip


async def test_a_store_outage_keeps_the_file_for_the_next_sweep(
    store: ReadingStore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from ingest.inbox import Inbox

    inbox = tmp_path / "inbox" / "askue"
    inbox.mkdir(parents=True)
    (inbox / "boom.xml").write_bytes(_day())
    (inbox / "good.xml").write_bytes(message(point("P2", {"01": periods(["4"] * 48)})))
    _settled(inbox)
    real = FileImporter(history_intake(store), home=tmp_path)
    sink = Exploding(real, StoreError("database unavailable", retryable=True))
    watcher = Inbox(sink, tmp_path)
    with caplog.at_level(logging.WARNING, logger="ingest.inbox"):
        first = await watcher.sweep()
        second = await watcher.sweep()
    assert [r.file for r in first] == ["good.xml"] and second == []
    assert os.listdir(inbox / ".work") == ["boom.xml"]  # claimed, waiting
    assert len([r for r in caplog.records if "boom.xml" in r.getMessage()]) == 1  # logged once
    # a file of the same name dropped meanwhile waits until the claimed one is done
    (inbox / "boom.xml").write_bytes(b"later")
    _settled(inbox)
    sink.exc = StoreError("constraint refused", retryable=False)  # permanent: the file's fault
    third = await watcher.sweep()
    assert [(r.file, r.status) for r in third] == [("boom.xml", "failed"), ("boom.xml", "failed")]
    failed = sorted(os.listdir(inbox / "failed"))
    assert len(failed) == 4 and {"boom.xml", "boom.xml.report.json"} <= set(failed)
    later = next(f for f in failed if not f.endswith(".report.json") and f != "boom.xml")
    assert later.startswith("boom.") and (inbox / "failed" / later).read_bytes() == b"later"
    report = json.loads((inbox / "failed" / f"{later}.report.json").read_text())
    assert report["error"] == "import failed: StoreError: constraint refused"
    assert (await store.stats())["readings"] == 48


async def test_a_file_still_being_written_waits(store: ReadingStore, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox" / "askue"
    inbox.mkdir(parents=True)
    (inbox / "fresh.xml").write_bytes(_day())
    assert await sweep(FileImporter(history_intake(store), home=tmp_path), tmp_path) == []
    assert (inbox / "fresh.xml").exists()
