"""The gateway's /health and /metrics port (real gateway, real PostgreSQL, real broker)."""

from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

from api.runtime import migrate_url
from core.config import Settings
from tests.mqtt_tools import gateway, publish, reading, wait_for_stats
from tests.services import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt]


async def _get(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        for _ in range(100):
            try:
                return await client.get(url)
            except httpx.ConnectError:
                await asyncio.sleep(0.05)
    raise AssertionError(f"nothing answers at {url}")


async def test_health_and_metrics(db_url, mosquitto) -> None:
    await migrate_url(db_url)
    port = free_port()
    s = Settings(
        mqtt_url=mosquitto.url, health_port=port, askue_inbox_interval_s=0, vee_interval_s=0
    )
    async with gateway(s, db_url):
        await publish(mosquitto, [("meters/m1/readings", reading("m1", "2026-12-01", 1.0))])
        await wait_for_stats(db_url, lambda st: st["readings"] == 1)
        health = await _get(f"http://127.0.0.1:{port}/health")
        assert health.status_code == 200, health.text
        body = health.json()
        assert body["status"] == "ok"
        assert body["sources"]["mqtt"]["detail"]["connected"] is True
        metrics = (await _get(f"http://127.0.0.1:{port}/metrics")).text
        assert 'uchet_gateway_source_up{source="mqtt"} 1.0' in metrics
        assert "uchet_gateway_stored_total 1.0" in metrics
        mosquitto.stop()  # the broker goes away: degraded, not ok
        for _ in range(100):
            health = await _get(f"http://127.0.0.1:{port}/health")
            if health.status_code == 503:
                break
            await asyncio.sleep(0.1)
        assert health.status_code == 503 and health.json()["status"] == "degraded"
        mosquitto.start()


async def test_a_busy_port_does_not_stop_the_gateway(db_url, mosquitto) -> None:
    await migrate_url(db_url)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        s = Settings(
            mqtt_url=mosquitto.url, health_port=port, askue_inbox_interval_s=0,
            vee_interval_s=0, health_interval_s=0.2,
        )  # fmt: skip
        async with gateway(s, db_url):
            await publish(mosquitto, [("meters/m1/readings", reading("m1", "2026-12-01", 1.0))])
            stats = await wait_for_stats(
                db_url,
                lambda st: (
                    st["readings"] == 1
                    and st["sources"].get("uchet-gateway", {}).get("http", {}).get("restarts", 0)
                    >= 1
                ),
            )
    assert "cannot serve /health" in stats["sources"]["uchet-gateway"]["http"]["last_error"]
