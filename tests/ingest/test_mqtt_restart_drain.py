"""A gateway killed mid-stream and restarted drains its queued session: all stored, once.

Issue #23: a restart found Receive Maximum messages in flight and a backlog of many times that
queued in the broker; the gateway waited for its SUBACKs before consuming while the intake
gate had stopped reading behind the backlog, so the subscribe timed out, the connection was
dropped, and the cycle repeated forever. The gateway runs as a real `uchet gateway` process.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from datetime import UTC, datetime, timedelta

import pytest

from api.runtime import migrate_url
from simulators.fastpub import publish_fast
from tests.ingest.test_resilience import GatewayProcess, _count, _prime
from tests.mqtt_tools import reading, wait_for_stats

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt, pytest.mark.slow]

RECEIVE_MAXIMUM = 100
MESSAGES = 6_000


def single_readings(n: int, meters: int = 60):
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for i in range(n):
        meter = f"d{i % meters}"
        ts = (start + timedelta(minutes=i // meters)).isoformat()
        yield f"meters/{meter}/readings", json.dumps(reading(meter, ts, float(i))).encode()


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_restart_after_kill_9_drains_a_backlog_of_many_receive_maxima(
    db_url, mosquitto, tmp_path, protocol
):
    await migrate_url(db_url)
    gw = GatewayProcess(db_url, mosquitto, tmp_path, client_id=f"gw-drain-{protocol}")
    gw.env["UCHET_MQTT_PROTOCOL"] = protocol
    gw.env["UCHET_MQTT_RECEIVE_MAXIMUM"] = str(RECEIVE_MAXIMUM)
    gw.start()
    await _prime(mosquitto, db_url)
    publisher = asyncio.create_task(
        publish_fast("127.0.0.1", mosquitto.port, single_readings(MESSAGES), qos=1)
    )
    while await _count(db_url) < 300:
        await asyncio.sleep(0.02)
    gw.kill9()  # Receive Maximum unacknowledged messages are in flight now
    assert await publisher == MESSAGES
    stored_at_kill = await _count(db_url)
    assert MESSAGES + 1 - stored_at_kill >= 20 * RECEIVE_MAXIMUM, stored_at_kill
    restarted = time.monotonic()
    gw.start()
    try:
        stats = await wait_for_stats(db_url, lambda s: s["readings"] >= MESSAGES + 1, timeout=60)
    except AssertionError:
        gw.kill9()
        raise AssertionError(gw.log.read_text()[-3000:]) from None
    drained = time.monotonic() - restarted
    assert gw.terminate() == 0
    assert stats["readings"] == MESSAGES + 1
    assert stats["conflicts"] == 0
    assert await _count(db_url) == MESSAGES + 1
    log = gw.log.read_text()
    assert "reconnecting" not in log, log[-3000:]  # drained on the first connection
    print(f"protocol {protocol}: {MESSAGES + 1 - stored_at_kill} drained in {drained:.1f} s")


async def test_restart_after_an_outage_with_the_fleet_publishing_throughout(
    db_url, mosquitto, tmp_path
):
    """The issue asks for a 10-minute outage: UCHET_TEST_OUTAGE_S=600 (default 20 s)."""
    outage = float(os.environ.get("UCHET_TEST_OUTAGE_S", "20"))
    rate = 200  # messages/s from the fleet, before, during and after the outage
    total = int(rate * (outage + 5))
    await migrate_url(db_url)
    gw = GatewayProcess(db_url, mosquitto, tmp_path, client_id="gw-outage")
    gw.env["UCHET_MQTT_RECEIVE_MAXIMUM"] = str(RECEIVE_MAXIMUM)
    gw.start()
    await _prime(mosquitto, db_url)
    publisher = asyncio.create_task(
        publish_fast("127.0.0.1", mosquitto.port, single_readings(total), qos=1, rate=rate)
    )
    await asyncio.sleep(2)
    gw.kill9()
    await asyncio.sleep(outage)
    gw.start()
    assert await publisher == total
    try:
        stats = await wait_for_stats(db_url, lambda s: s["readings"] >= total + 1, timeout=120)
    except AssertionError:
        gw.kill9()
        raise AssertionError(gw.log.read_text()[-3000:]) from None
    assert gw.terminate() == 0
    assert stats["readings"] == total + 1
    assert stats["conflicts"] == 0
    assert await _count(db_url) == total + 1
