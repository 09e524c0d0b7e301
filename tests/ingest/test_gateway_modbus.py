"""The gateway polls Modbus meters into the store through the same pipeline as MQTT."""

from __future__ import annotations

import json

import asyncpg
import pytest

from api.runtime import migrate_url
from core.config import Settings
from tests.modbus.helpers import builtin, fleet
from tests.mqtt_tools import gateway, wait_for_stats

pytestmark = [pytest.mark.postgres]


async def test_modbus_meters_reach_the_store(db_url, tmp_path):
    await migrate_url(db_url)
    sims = fleet(
        [builtin("eastron_sdm120"), builtin("eastron_sdm630")], per_profile=3, per_gateway=3
    )
    devices = tmp_path / "devices.json"
    devices.write_text(json.dumps(sims.device_list(interval_s=1, timeout_s=0.5)))
    async with sims:
        settings = Settings(modbus_devices=devices, batch_delay_s=0.05)
        async with gateway(settings, db_url):
            # every device's every channel registered, and a second round of polls stored
            channels = sum(len(m.registers) for m in sims.meters)
            stats = await wait_for_stats(
                db_url, lambda s: s["meters"] >= channels and s["readings"] >= 2 * channels
            )
    conn = await asyncpg.connect(db_url)
    try:
        rows = await conn.fetch(
            "SELECT m.source, m.external_id, m.channel, count(*) AS n FROM readings r"
            " JOIN meters m ON m.id = r.meter_id GROUP BY 1, 2, 3"
        )
    finally:
        await conn.close()
    assert {r["source"] for r in rows} == {"modbus"}
    assert {r["external_id"] for r in rows} == {m.meter for m in sims.meters}
    assert "1-0:1.8.0" in {r["channel"] for r in rows}
    assert stats["quarantined"] == {}


async def test_device_health_reaches_stats(db_url, tmp_path):
    from tests.services import free_port

    await migrate_url(db_url)
    sims = fleet([builtin("eastron_sdm120")], per_profile=2, per_gateway=2)
    doc = sims.device_list(interval_s=1, timeout_s=0.3, failure_threshold=1)
    dead = dict(doc["devices"][0], meter="dead-meter", port=free_port())  # nobody listens
    doc["devices"].append(dead)
    devices = tmp_path / "devices.json"
    devices.write_text(json.dumps(doc))
    async with sims:
        settings = Settings(modbus_devices=devices, batch_delay_s=0.05, health_interval_s=0.2)
        async with gateway(settings, db_url):
            stats = await wait_for_stats(
                db_url,
                lambda s: (
                    s["devices"].get("modbus", {}).get("online") == 2
                    and s["devices"]["modbus"].get("offline") == 1
                ),
            )
    assert [d["device"] for d in stats["offline_devices"]] == ["dead-meter"]
    assert stats["offline_devices"][0]["last_error"]
