"""Unknown meters quarantined, then bound by an operator and replayed: nothing lost."""

from __future__ import annotations

import asyncpg
import pytest

from api.cli import main
from api.runtime import migrate_url
from tests.ingest.test_mqtt_ingest import settings_for
from tests.mqtt_tools import gateway, publish, reading, wait_for_stats

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt]


async def test_bind_and_replay_quarantined_readings(mosquitto, db_url, monkeypatch, capsys):
    await migrate_url(db_url)
    conn = await asyncpg.connect(db_url)
    await conn.execute(
        "INSERT INTO houses (id, common_area) VALUES ('h1', 100);"
        "INSERT INTO premises (id, house_id, area) VALUES ('apt9', 'h1', 50)"
    )
    await conn.close()
    msgs = [
        ("meters/new-cw/readings", reading("new-cw", f"2026-03-0{d}T00:00:00Z", 10.0 + d))
        for d in range(1, 6)
    ]
    msgs.append(("meters/new-cw/readings", reading("new-cw", "2026-03-06T00:00:00Z", 1.0)))
    async with gateway(settings_for(mosquitto, unknown_meters="quarantine"), db_url):
        await publish(mosquitto, msgs)
        await wait_for_stats(db_url, lambda s: s["quarantined"].get("unknown_meter") == 6)

    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    # the CLI runs its own event loop: call it from a worker thread
    import asyncio

    code = await asyncio.to_thread(
        main, ["meters", "bind", "mqtt:new-cw:cold_water", "--premise", "apt9"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert '"replayed": 6' in out and '"stored": 5' in out
    assert '"register_rollback": 1' in out  # 1.0 after 15.0: still wrong, quarantined anew
    stats = await wait_for_stats(db_url, lambda s: s["readings"] == 5)
    assert stats["quarantined"] == {"register_rollback": 1}  # replayed rows are not counted
    conn = await asyncpg.connect(db_url)
    try:
        bound = await conn.fetchval("SELECT premise_id FROM meters WHERE external_id = 'new-cw'")
        replayed = await conn.fetchval(
            "SELECT count(*) FROM quarantine WHERE replayed_at IS NOT NULL"
        )
    finally:
        await conn.close()
    assert (bound, replayed) == ("apt9", 6)
    # replaying again changes nothing
    code = await asyncio.to_thread(main, ["quarantine", "replay", "--meter", "mqtt:new-cw"])
    assert code == 0
    assert '"replayed": 1' in capsys.readouterr().out  # only the new rollback row is pending
    assert (await wait_for_stats(db_url, lambda s: True))["readings"] == 5
