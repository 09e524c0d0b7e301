"""Poison messages between good ones: quarantined with their reason, intake goes on (#15)."""

from __future__ import annotations

import asyncpg
import pytest

from api.runtime import migrate_url
from tests.ingest.test_mqtt_ingest import settings_for
from tests.mqtt_tools import gateway, publish, reading, wait_for_stats

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt]

TS = "2026-03-01T00:00:00+00:00"
POISON = [
    ("meters/p1/readings", {**reading("p1", TS, 1.0), "ts": "9999-12-31T23:59:59-01:00"}),
    (
        "meters/p1/readings",
        {**reading("p1", TS, 1.0), "kind": "interval", "end": "0001-01-01T00:00:00+01:00"},
    ),
    ("meters/readings", reading("p\x002", TS, 1.0)),
    ("meters/readings", reading("p3", TS, 1.0, channel="cold\x00water")),
    ("meters/readings", reading("x" * 4_000, TS, 1.0)),
    ("meters/readings", reading("p\x1b4", TS, 1.0)),
    ("meters/p1/readings", {**reading("p1", TS, 1.0), "value": "1e999"}),
    ("meters/p1/readings", b"{not json\x00"),
]
EXPECTED = {"timestamp_out_of_range": 2, "invalid_identifier": 4, "malformed": 2}


async def test_poison_messages_are_quarantined_and_the_good_ones_around_them_stored(
    db_url, mosquitto
):
    await migrate_url(db_url)
    good_before = [("meters/p1/readings", reading("p1", TS, 10.0))]
    good_after = [
        ("meters/p1/readings", reading("p1", "2026-03-02T00:00:00+00:00", 11.0)),
        ("meters/readings", [reading("p5", TS, 1.0), reading("p\x005", TS, 2.0)]),
    ]
    async with gateway(settings_for(mosquitto, "gw-poison"), db_url):
        await publish(mosquitto, good_before + POISON + good_after)
        stats = await wait_for_stats(
            db_url,
            lambda s: s["readings"] >= 3 and sum(s["quarantined"].values()) >= 9,
            timeout=20,
        )
        # intake goes on after the poison
        await publish(
            mosquitto, [("meters/p1/readings", reading("p1", "2026-03-03T00:00:00+00:00", 12.0))]
        )
        stats = await wait_for_stats(db_url, lambda s: s["readings"] >= 4, timeout=20)
    assert stats["readings"] == 4  # p1 x3 and p5
    assert stats["quarantined"] == {**EXPECTED, "invalid_identifier": 5}
    conn = await asyncpg.connect(db_url)
    try:
        rows = await conn.fetch("SELECT reason, detail, meter, payload FROM quarantine")
    finally:
        await conn.close()
    out_of_range = [r["payload"] for r in rows if r["reason"] == "timestamp_out_of_range"]
    assert any(b"9999-12-31T23:59:59-01:00" in p for p in out_of_range)
    assert any(b"0001-01-01T00:00:00+01:00" in p for p in out_of_range)
    assert any(b"x" * 4_000 in r["payload"] for r in rows)  # the raw payload is kept
    assert all(r["meter"] is None or len(r["meter"]) <= 200 for r in rows)
