"""Values of an 80020 file the parser cannot read are quarantined (reason, point, where), not
only listed in the report; the file's good values are stored; a re-import adds nothing."""

from __future__ import annotations

import asyncpg
import pytest

from adapters.store import ReadingStore
from api.runtime import migrate_url
from ingest.askue_import import AskueImporter
from tests.askue.helpers import message, periods, point
from tests.intake_tools import history_intake

pytestmark = pytest.mark.postgres


async def test_unreadable_values_go_to_the_quarantine(db_url, tmp_path) -> None:
    await migrate_url(db_url)
    store = await ReadingStore.open(db_url)
    try:
        body = point("P7", {"01": periods(["1", "1e300", "2", "99999999999999999999999"])})
        path = tmp_path / "80020_7700000000_20240115_5.xml"
        path.write_bytes(message(body))
        importer = AskueImporter(history_intake(store))
        report = await importer.import_file(path)
        again = await AskueImporter(history_intake(store)).import_file(
            path.rename(path.with_name("copy.xml"))
        )
    finally:
        await store.close()
    assert report.accepted == 2
    assert report.rejected_count == 2
    assert again.status == "already_imported"
    conn = await asyncpg.connect(db_url)
    try:
        rows = await conn.fetch("SELECT reason, meter, channel, detail FROM quarantine")
    finally:
        await conn.close()
    assert len(rows) == 2
    assert {r["meter"] for r in rows} == {"P7"}
    assert {r["channel"] for r in rows} == {"1-0:1.8.0"}
    assert all(r["detail"].startswith(path.name) for r in rows)
    assert all(r["reason"] == "value_too_large" for r in rows), [r["reason"] for r in rows]
