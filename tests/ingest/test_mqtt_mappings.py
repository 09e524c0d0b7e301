"""UCHET_MQTT_MAPPINGS as documented, and every message on a mapped topic accounted for,
through a real broker into a real store."""

from __future__ import annotations

import json

import aiomqtt
import asyncpg
import pytest

from api.runtime import migrate_url
from core.config import Settings
from core.errors import ConfigError
from ingest.gateway import load_mappings
from tests.mqtt_tools import gateway, wait_for_stats


def test_env_inline_json_names_and_path(monkeypatch, tmp_path):
    monkeypatch.setenv("UCHET_MQTT_MAPPINGS", '["tasmota_sml"]')
    monkeypatch.setenv("UCHET_TIMEZONE", "Asia/Yekaterinburg")
    (m,) = load_mappings(Settings())
    assert (m.name, m.ts_timezone) == ("tasmota_sml", "Asia/Yekaterinburg")
    monkeypatch.setenv("UCHET_MQTT_MAPPINGS", "shelly_gen1,esphome")
    assert [m.name for m in load_mappings(Settings())] == ["shelly_gen1", "esphome"]
    path = tmp_path / "mappings.json"
    path.write_text(json.dumps(["wmbusmeters"]))
    monkeypatch.setenv("UCHET_MQTT_MAPPINGS", str(path))
    assert [m.name for m in load_mappings(Settings())] == ["wmbusmeters"]
    assert [m.name for m in load_mappings(Settings(mqtt_mappings=path))] == ["wmbusmeters"]


def test_env_errors_name_the_problem(monkeypatch, tmp_path):
    monkeypatch.setenv("UCHET_MQTT_MAPPINGS", '["tasmota_sml", "shelly"]')
    with pytest.raises(ConfigError, match="unknown built-in mapping 'shelly'"):
        load_mappings(Settings())
    monkeypatch.setenv("UCHET_MQTT_MAPPINGS", str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match=r"cannot read .*missing\.json"):
        load_mappings(Settings())
    bad = tmp_path / "bad.json"
    bad.write_text('[{"name": "mine", "topic": "a/+", "values": []}]')
    monkeypatch.setenv("UCHET_MQTT_MAPPINGS", str(bad))
    with pytest.raises(ConfigError, match=r"file .*bad.json: mapping 'mine' is invalid"):
        load_mappings(Settings())


@pytest.mark.postgres
@pytest.mark.mqtt
async def test_plain_topics_stored_and_no_reading_quarantined(db_url, mosquitto):
    await migrate_url(db_url)
    settings = Settings(
        mqtt_url=mosquitto.url,
        mqtt_mappings="shelly_gen1,esphome,zigbee2mqtt_attribute",
        mqtt_client_id="gw-plain",
        batch_delay_s=0.05,
    )
    sent = [
        ("shellies/shellyem-B9F3A4/emeter/0/total", b"123456.7"),  # stored, Wh -> kWh
        ("flat12/sensor/total_energy/state", b"1234.5"),  # stored
        ("shellies/shellyem-B9F3A4/emeter/0/voltage", b"229.1"),  # no_reading
        ("zigbee2mqtt/kitchen plug/state", b"ON"),  # no_reading (plain text)
        ("meters/m1/readings", b"[]"),  # canonical, empty: no_reading
        ("shellies/shellyem-B9F3A4/emeter/1/total", b'"n/a"'),  # malformed
    ]
    async with gateway(settings, db_url):
        async with aiomqtt.Client("127.0.0.1", mosquitto.port) as pub:
            for topic, payload in sent:
                await pub.publish(topic, payload, qos=1)
        stats = await wait_for_stats(
            db_url, lambda s: s["readings"] >= 2 and sum(s["quarantined"].values()) >= 4
        )
    assert stats["quarantined"] == {"malformed": 1, "no_reading": 3}
    conn = await asyncpg.connect(db_url)
    try:
        readings = await conn.fetch(
            "SELECT m.external_id, m.channel, r.value FROM readings r"
            " JOIN meters m ON m.id = r.meter_id ORDER BY 1"
        )
        held = await conn.fetch(
            "SELECT reason, detail, meter, payload FROM quarantine ORDER BY reason, id"
        )
    finally:
        await conn.close()
    assert [tuple(r) for r in readings] == [
        ("flat12", "1-0:1.8.0", 1234.5),
        ("shellyem-B9F3A4-0", "1-0:1.8.0", 123.4567),
    ]
    assert (held[0]["reason"], held[0]["meter"], bytes(held[0]["payload"])) == (
        "malformed",
        "shellyem-B9F3A4-1",
        b'"n/a"',
    )
    no_reading = {(bytes(h["payload"]), h["detail"].split("'")[1]) for h in held[1:]}
    assert no_reading == {
        (b"229.1", "shellies/shellyem-B9F3A4/emeter/0/voltage"),
        (b"ON", "zigbee2mqtt/kitchen plug/state"),
        (b"[]", "meters/m1/readings"),
    }
