"""Supervised sources: a failure is logged once with its cause, the source is restarted with
backoff, and its restarts show in the gateway's health and ``uchet stats``."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from adapters.modbus.poller import Poller
from adapters.mqtt import MqttSource
from api.runtime import migrate_url
from core.backoff import Backoff
from core.config import Settings
from ingest import gateway as gateway_module
from ingest.supervisor import Supervised
from tests.mqtt_tools import gateway, publish, reading, wait_for_stats
from tests.services import free_port


async def test_a_failing_source_is_restarted_and_counted(caplog) -> None:
    stop = asyncio.Event()
    calls = 0

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise ValueError(f"broken {calls}")
        await stop.wait()

    sup = Supervised("flaky", flaky, stop, backoff=Backoff(base=0.01, cap=0.02))
    with caplog.at_level(logging.ERROR, logger="ingest.supervisor"):
        task = asyncio.create_task(sup.run())
        for _ in range(100):
            if sup.health.state == "running" and calls == 3:
                break
            await asyncio.sleep(0.01)
        assert sup.report()["restarts"] == 2
        assert sup.health.last_error == "ValueError: broken 2"
        stop.set()
        await asyncio.wait_for(task, 1)
    assert sup.health.state == "stopped"
    failures = [r for r in caplog.records if "source flaky failed" in r.getMessage()]
    assert len(failures) == 2  # once per failure, each with its cause and traceback
    assert all(r.exc_info for r in failures)


async def test_a_source_that_ends_by_itself_is_restarted() -> None:
    stop = asyncio.Event()
    runs = 0

    async def quits() -> None:
        nonlocal runs
        runs += 1
        if runs > 2:
            await stop.wait()

    sup = Supervised("quits", quits, stop, backoff=Backoff(base=0.01, cap=0.01))
    task = asyncio.create_task(sup.run())
    await asyncio.sleep(0.2)
    stop.set()
    await asyncio.wait_for(task, 1)
    assert (runs, sup.health.restarts, sup.health.last_error) == (3, 2, "ended by itself")


def _fail_once(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, failed: set[str]):
    original = getattr(owner, name)
    key = f"{getattr(owner, '__name__', owner)}.{name}"

    def wrapper(*args, **kwargs):
        if key not in failed:
            failed.add(key)

            async def boom() -> None:
                raise RuntimeError(f"{name} killed by the test")

            return boom()
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)


@pytest.mark.postgres
@pytest.mark.mqtt
async def test_the_gateway_restarts_each_kind_of_source(
    db_url, mosquitto, tmp_path: Path, monkeypatch, caplog
) -> None:
    await migrate_url(db_url)
    devices = tmp_path / "devices.json"
    devices.write_text(
        json.dumps(
            {
                "defaults": {"interval_s": 1, "timeout_s": 0.2},
                "devices": [
                    {
                        "meter": "dead-1",
                        "host": "127.0.0.1",
                        "port": free_port(),
                        "unit": 1,
                        "profile": "eastron_sdm120",
                    }
                ],
            }
        )
    )
    failed: set[str] = set()
    _fail_once(monkeypatch, MqttSource, "run", failed)
    _fail_once(monkeypatch, Poller, "run", failed)
    _fail_once(monkeypatch, gateway_module, "watch_inbox", failed)
    _fail_once(monkeypatch, gateway_module, "vee_schedule", failed)
    settings = Settings(
        mqtt_url=mosquitto.url,
        modbus_devices=devices,
        home=tmp_path / "home",
        askue_inbox_interval_s=0.2,
        vee_interval_s=3600,
        health_interval_s=0.2,
        batch_delay_s=0.02,
    )
    with caplog.at_level(logging.ERROR, logger="ingest.supervisor"):
        async with gateway(settings, db_url):
            await publish(mosquitto, [("meters/m1/readings", reading("m1", "2026-12-01", 1.0))])
            stats = await wait_for_stats(
                db_url,
                lambda s: (
                    s["readings"] == 1
                    and all(
                        s["sources"].get("uchet-gateway", {}).get(k, {}).get("restarts") == 1
                        and s["sources"]["uchet-gateway"][k]["state"] == "running"
                        for k in ("mqtt", "modbus", "inbox", "vee")
                    )
                ),
            )
    assert len(failed) == 4
    sources = stats["sources"]["uchet-gateway"]
    assert sources["mqtt"]["last_error"] == "RuntimeError: run killed by the test"
    assert sources["pipeline"]["restarts"] == 0
    logged = [r.getMessage() for r in caplog.records if "failed (RuntimeError" in r.getMessage()]
    assert len(logged) == 4
