"""Crash, broker restart, database restart, shared subscriptions: zero lost, zero duplicated.

The gateway runs as a real `uchet gateway` process (so it can be killed with SIGKILL), against
a private Mosquitto and, for the database restart, a private PostgreSQL cluster.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from api.runtime import migrate_url
from tests.ingest.test_mqtt_ingest import series, settings_for
from tests.mqtt_tools import gateway, publish, wait_for_stats
from tests.services import Mosquitto, PrivatePostgres

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


class GatewayProcess:
    def __init__(self, db_url: str, broker: Mosquitto, tmp: Path, client_id: str = "gw-proc"):
        self.env = {
            **os.environ,
            "UCHET_DATABASE_URL": db_url,
            "UCHET_MQTT_URL": broker.url,
            "UCHET_MQTT_CLIENT_ID": client_id,
            "UCHET_BATCH_DELAY_S": "0.05",
            "UCHET_BATCH_SIZE": "500",
            "UCHET_QUEUE_READINGS": "2000",
            "UCHET_HOME": str(tmp / "home"),
        }
        self.log = tmp / f"{client_id}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "-v", "gateway"],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def rss_kib(self) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)


async def _prime(broker: Mosquitto, url: str) -> None:
    """Waits until the gateway's subscription exists (a sentinel reading gets stored)."""
    for _ in range(100):
        await publish(
            broker,
            [
                (
                    "meters/sentinel/readings",
                    {
                        "channel": "cold_water",
                        "ts": "2026-01-01T00:00:00Z",
                        "value": 1,
                        "unit": "m3",
                    },
                )
            ],
        )
        conn = await asyncpg.connect(url)
        try:
            if await conn.fetchval("SELECT count(*) FROM readings"):
                return
        finally:
            await conn.close()
        await asyncio.sleep(0.2)
    raise AssertionError("the gateway never subscribed")


async def _count(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT count(*) FROM readings")
    finally:
        await conn.close()


async def test_kill_9_mid_stream_loses_and_duplicates_nothing(db_url, mosquitto, tmp_path):
    await migrate_url(db_url)
    gw = GatewayProcess(db_url, mosquitto, tmp_path)
    gw.start()
    await _prime(mosquitto, db_url)
    msgs = series(6000, meters=50)
    publisher = asyncio.create_task(publish(mosquitto, msgs))
    while await _count(db_url) < 1500:
        await asyncio.sleep(0.05)
    gw.kill9()
    await publisher
    gw.start()
    stats = await wait_for_stats(db_url, lambda s: s["readings"] >= 6001, timeout=60)
    assert gw.terminate() == 0
    assert stats["readings"] == 6001
    assert stats["conflicts"] == 0
    assert await _count(db_url) == 6001


async def test_broker_restart_while_publishing(db_url, mosquitto, tmp_path):
    await migrate_url(db_url)
    gw = GatewayProcess(db_url, mosquitto, tmp_path)
    gw.start()
    await _prime(mosquitto, db_url)
    first, second = series(3000, meters=30)[:1500], series(3000, meters=30)[1500:]
    await publish(mosquitto, first)
    mosquitto.restart()  # persistence keeps the gateway's session and queued messages
    await publish(mosquitto, second)
    stats = await wait_for_stats(db_url, lambda s: s["readings"] >= 3001, timeout=90)
    assert gw.terminate() == 0
    assert stats["readings"] == 3001
    assert stats["conflicts"] == 0


async def test_database_restart_while_publishing_memory_bounded(mosquitto, tmp_path):
    pg = PrivatePostgres()
    pg.start()
    try:
        await migrate_url(pg.url)
        gw = GatewayProcess(pg.url, mosquitto, tmp_path)
        gw.start()
        await _prime(mosquitto, pg.url)
        baseline = gw.rss_kib()
        pg.stop()
        msgs = series(20000, meters=100)
        await publish(mosquitto, msgs)  # the database is down the whole time
        await asyncio.sleep(2)
        during = gw.rss_kib()
        pg.start()
        stats = await wait_for_stats(pg.url, lambda s: s["readings"] >= 20001, timeout=120)
        assert gw.terminate() == 0
        assert stats["readings"] == 20001
        assert stats["conflicts"] == 0
        # unacknowledged messages wait in the broker, not in the gateway
        assert during - baseline < 60_000, (baseline, during)
    finally:
        pg.destroy()


async def test_two_gateways_share_one_subscription(db_url, mosquitto):
    await migrate_url(db_url)
    a = settings_for(mosquitto, "gw-a", mqtt_shared_group="uchet")
    b = settings_for(mosquitto, "gw-b", mqtt_shared_group="uchet")
    msgs = series(4000, meters=40)
    async with gateway(a, db_url), gateway(b, db_url):
        await publish(mosquitto, msgs)
        stats = await wait_for_stats(db_url, lambda s: s["readings"] >= 4000, timeout=60)
    assert stats["readings"] == 4000
    assert stats["duplicates"] == 0
    log = (Path(mosquitto.workdir) / "mosquitto.log").read_text()
    assert "gw-a" in log and "gw-b" in log
