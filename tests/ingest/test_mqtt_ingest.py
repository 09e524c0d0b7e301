"""MQTT -> pipeline -> PostgreSQL, against a real Mosquitto and a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from api.runtime import migrate_url
from core.config import Settings
from tests.mqtt_tools import gateway, publish, reading, wait_for_stats
from tests.services import Mosquitto

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt]


@pytest.fixture
async def store_url(db_url: str) -> str:
    await migrate_url(db_url)
    return db_url


def settings_for(broker: Mosquitto, client_id: str = "gw-test", **kw) -> Settings:
    return Settings(mqtt_url=broker.url, mqtt_client_id=client_id, batch_delay_s=0.05, **kw)


def series(n: int, meters: int = 20, start: datetime | None = None):
    start = start or datetime(2026, 3, 1, tzinfo=UTC)
    return [
        (
            f"meters/m{i % meters}/readings",
            reading(f"m{i % meters}", (start + timedelta(hours=i // meters)).isoformat(), i * 0.5),
        )
        for i in range(n)
    ]


async def test_k_messages_give_k_rows_and_replays_add_none(mosquitto, store_url):
    msgs = series(600)
    async with gateway(settings_for(mosquitto), store_url):
        await publish(mosquitto, msgs)
        stats = await wait_for_stats(store_url, lambda s: s["readings"] >= 600)
        await publish(mosquitto, msgs[:150])  # a replay of already stored readings
        stats = await wait_for_stats(store_url, lambda s: s["duplicates"] >= 150)
    assert stats["readings"] == 600
    assert stats["duplicates"] == 150
    assert stats["conflicts"] == 0
    assert stats["meters"] == 20
    conn = await asyncpg.connect(store_url)
    try:
        # every value arrived intact, converted to the canonical unit and channel
        row = await conn.fetchrow(
            "SELECT m.external_id, m.channel, r.value FROM readings r JOIN meters m"
            " ON m.id = r.meter_id WHERE m.external_id = 'm3' ORDER BY r.ts LIMIT 1"
        )
        assert (row["external_id"], row["channel"], row["value"]) == ("m3", "cold_water", 1.5)
    finally:
        await conn.close()


async def test_array_payloads_and_units(mosquitto, store_url):
    ts = "2026-03-22T09:15:00+03:00"
    payload = [
        {"channel": "1.8.0", "ts": ts, "value": 1500, "unit": "Wh"},
        {"channel": "cold_water", "ts": ts, "value": 227000, "unit": "l"},
        {"channel": "heating", "ts": 1774160100, "value": 4.1868, "unit": "GJ"},
    ]
    async with gateway(settings_for(mosquitto), store_url):
        await publish(mosquitto, [("meters/apt1/readings", payload)])
        await wait_for_stats(store_url, lambda s: s["readings"] >= 3)
    conn = await asyncpg.connect(store_url)
    try:
        rows = await conn.fetch(
            "SELECT m.channel, r.value, r.ts FROM readings r JOIN meters m ON m.id = r.meter_id"
        )
    finally:
        await conn.close()
    got = {r["channel"]: r["value"] for r in rows}
    assert got["1-0:1.8.0"] == pytest.approx(1.5)
    assert got["cold_water"] == pytest.approx(227.0)
    assert got["heating"] == pytest.approx(1.0)
    assert {r["ts"] for r in rows if r["channel"] != "heating"} == {
        datetime(2026, 3, 22, 6, 15, tzinfo=UTC)
    }


async def test_bad_readings_quarantined_with_reasons_good_ones_stored(mosquitto, store_url):
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    good = [
        reading("q1", "2026-03-01T00:00:00Z", 100.0),
        reading("q1", "2026-03-02T00:00:00Z", 101.0),
    ]
    bad_in_batch = [
        reading("q1", "2026-03-03T00:00:00Z", 102.0),
        {"meter": "q1", "channel": "cold_water", "ts": "yesterday", "value": 1, "unit": "m3"},
        reading("q2", "2026-03-03T00:00:00Z", 5.0, unit="furlongs"),
        reading("q3", "2026-03-03T00:00:00Z", -4.0),
        reading("q4", future, 7.0),
        reading("q1", "2026-03-04T00:00:00Z", 50.0),  # lower than 102: a rollback
        reading("q1", "2026-03-05T00:00:00Z", 103.0),
    ]
    async with gateway(settings_for(mosquitto), store_url):
        await publish(mosquitto, [("meters/q1/readings", g) for g in good])
        await wait_for_stats(store_url, lambda s: s["readings"] >= 2)
        await publish(
            mosquitto,
            [
                ("meters/mixed/readings", b"{not json"),
                ("meters/readings", bad_in_batch),
            ],
        )
        stats = await wait_for_stats(
            store_url, lambda s: sum(s["quarantined"].values()) >= 6 and s["readings"] >= 4
        )
    assert stats["quarantined"] == {
        "malformed": 2,
        "unknown_unit": 1,
        "negative_value": 1,
        "future_timestamp": 1,
        "register_rollback": 1,
    }
    assert stats["readings"] == 4  # 100, 101, 102, 103 of q1
    conn = await asyncpg.connect(store_url)
    try:
        detail = await conn.fetchval(
            "SELECT detail FROM quarantine WHERE reason = 'register_rollback'"
        )
        payload = await conn.fetchval("SELECT payload FROM quarantine WHERE reason='unknown_unit'")
    finally:
        await conn.close()
    assert "50.0 < previous 102.0" in detail
    assert b"furlongs" in payload  # the raw element is kept for a replay


async def test_rollover_accepted_with_flag(mosquitto, store_url):
    msgs = [
        ("meters/r1/readings", reading("r1", "2026-03-01T00:00:00Z", 99_990.0)),
        ("meters/r1/readings", reading("r1", "2026-03-02T00:00:00Z", 3.0)),
    ]
    async with gateway(settings_for(mosquitto), store_url):
        await publish(mosquitto, msgs)
        await wait_for_stats(store_url, lambda s: s["readings"] >= 2)
    conn = await asyncpg.connect(store_url)
    try:
        flags = await conn.fetch("SELECT flags FROM readings ORDER BY ts")
    finally:
        await conn.close()
    assert [r["flags"] for r in flags] == [0, 1]  # Flag.ROLLOVER on the second


async def test_conflicting_value_recorded_not_dropped(mosquitto, store_url):
    async with gateway(settings_for(mosquitto), store_url):
        await publish(
            mosquitto, [("meters/c1/readings", reading("c1", "2026-03-01T00:00:00Z", 10.0))]
        )
        await wait_for_stats(store_url, lambda s: s["readings"] >= 1)
        await publish(
            mosquitto, [("meters/c1/readings", reading("c1", "2026-03-01T00:00:00Z", 11.0))]
        )
        stats = await wait_for_stats(store_url, lambda s: s["conflicts"] >= 1)
    assert stats["readings"] == 1
    conn = await asyncpg.connect(store_url)
    try:
        row = await conn.fetchrow("SELECT stored_value, new_value FROM conflicts")
        value = await conn.fetchval("SELECT value FROM readings")
    finally:
        await conn.close()
    assert (row["stored_value"], row["new_value"], value) == (10.0, 11.0, 10.0)


async def test_unknown_meters_quarantined_when_configured(mosquitto, store_url):
    conn = await asyncpg.connect(store_url)
    await conn.execute(
        "INSERT INTO meters (source, external_id, channel, service, unit, premise_id)"
        " VALUES ('mqtt', 'known', 'cold_water', 'cold_water', 'm3', 'apt1')"
    )
    await conn.close()
    msgs = [
        ("meters/known/readings", reading("known", "2026-03-01T00:00:00Z", 1.0)),
        ("meters/stranger/readings", reading("stranger", "2026-03-01T00:00:00Z", 1.0)),
    ]
    async with gateway(settings_for(mosquitto, unknown_meters="quarantine"), store_url):
        await publish(mosquitto, msgs)
        stats = await wait_for_stats(store_url, lambda s: s["quarantined"] and s["readings"])
    assert stats["quarantined"] == {"unknown_meter": 1}
    assert stats["meters"] == 1
