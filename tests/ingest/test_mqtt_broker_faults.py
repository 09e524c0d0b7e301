"""Broker faults: a crash with the shipped persistence, a lost session, a client-id takeover,
and a shared group with a dead member (#15). Real Mosquitto brokers throughout."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import socket
from pathlib import Path

import pytest

from adapters.mqtt import MqttSource
from api.runtime import migrate_url
from simulators.fastpub import publish_fast
from tests.ingest.test_mqtt_ingest import settings_for
from tests.mqtt_tools import gateway, reading, wait_for_stats
from tests.services import Mosquitto

pytestmark = pytest.mark.mqtt
SHIPPED = Path(__file__).resolve().parents[2] / "docker" / "mosquitto.conf"
TS = "2026-03-01T00:00:00+00:00"


def messages(n: int, first: int = 0):
    for i in range(first, first + n):
        yield f"meters/m{i}/readings", json.dumps(reading(f"m{i}", TS, float(i))).encode()


def configure(broker: Mosquitto, **settings: str) -> None:
    """Replaces the broker's settings (a restart applies them)."""
    text = broker.conf.read_text()
    for key, value in settings.items():
        text = re.sub(rf"^{key} .*\n", "", text, flags=re.M) + f"{key} {value}\n"
    broker.conf.write_text(text)


def crash(source: MqttSource) -> None:
    """The source's connection dies without a DISCONNECT, as in a crash of its process."""
    assert source._client is not None
    source._client._client.socket().shutdown(socket.SHUT_RDWR)


class Sink:
    """Collects what a source submits and acknowledges it at once."""

    def __init__(self) -> None:
        self.meters: list[str] = []

    async def submit(self, items, ack) -> None:
        self.meters += items.meter
        if ack is not None:
            ack()


@contextlib.asynccontextmanager
async def running(source: MqttSource):
    task = asyncio.create_task(source.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def until(predicate, within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        while not predicate():
            await asyncio.sleep(0.05)


@pytest.mark.postgres
@pytest.mark.slow
async def test_broker_kill_9_with_the_shipped_persistence_loses_at_most_its_window(
    db_url, mosquitto
):
    shipped = dict(
        re.findall(r"^(autosave_on_changes|autosave_interval) (\S+)", SHIPPED.read_text(), re.M)
    )
    assert shipped["autosave_on_changes"] == "true"
    window = int(shipped["autosave_interval"])
    configure(mosquitto, **shipped)
    mosquitto.restart()
    await migrate_url(db_url)
    settings = settings_for(mosquitto, "gw-crash")
    async with gateway(settings, db_url):
        pass  # the gateway's session and subscriptions exist; it is offline now
    n = 1_050
    assert await publish_fast("127.0.0.1", mosquitto.port, messages(n)) == n  # all PUBACKed
    assert mosquitto.proc is not None
    mosquitto.proc.kill()  # kill -9: no snapshot on the way out
    mosquitto.proc.wait()
    mosquitto.start()
    async with gateway(settings, db_url):
        await wait_for_stats(db_url, lambda s: s["readings"] >= n - window + 1, timeout=30)
        await asyncio.sleep(1)  # nothing else comes
        stats = await wait_for_stats(db_url, lambda s: True)
    assert n - window < stats["readings"] <= n  # lost: what came after the last snapshot


@pytest.mark.parametrize("persistence", ["true", "false"])
async def test_a_lost_session_is_counted_and_reported(mosquitto, persistence, caplog):
    configure(mosquitto, persistence=persistence)
    mosquitto.restart()
    sink = Sink()
    source = MqttSource(mosquitto.url, sink.submit, client_id="gw-session")
    caplog.set_level(logging.INFO, "adapters.mqtt")
    async with running(source):
        await asyncio.wait_for(source.subscribed.wait(), 10)
        assert source.health()["lost_sessions"] == 0  # a first start is not a loss
        source.subscribed.clear()
        mosquitto.restart()
        await until(lambda: source.reconnects == 1 and source.connected, within=20)
        await asyncio.wait_for(source.subscribed.wait(), 10)
        await publish_fast("127.0.0.1", mosquitto.port, messages(5))
        await until(lambda: len(sink.meters) == 5)  # subscribed again either way
    health = source.health()
    lost = persistence == "false"
    assert health["lost_sessions"] == int(lost)
    assert health["session_present"] is (not lost)
    assert ("lost the session of client id 'gw-session'" in caplog.text) is lost


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
async def test_two_gateways_with_one_client_id_are_told_apart_and_back_off(
    mosquitto, protocol, caplog
):
    caplog.set_level(logging.WARNING, "adapters.mqtt")
    a, b = (
        MqttSource(mosquitto.url, Sink().submit, client_id="uchet-gateway", protocol=protocol)
        for _ in range(2)
    )
    async with running(a):
        await asyncio.wait_for(a.subscribed.wait(), 10)
        async with running(b):
            await asyncio.sleep(12)
    takeovers = a.takeovers + b.takeovers
    connections = a.reconnects + b.reconnects + 2
    assert takeovers >= 1
    assert "another client is using client id 'uchet-gateway'" in caplog.text
    assert "broker unavailable" not in caplog.text  # the broker is not blamed
    # without the backoff they took the session from each other ~160 times a minute
    assert connections <= 12, (a.health(), b.health())
    assert a.health()["takeovers"] == a.takeovers


async def test_a_dead_members_share_waits_for_it_until_its_session_expires(mosquitto):
    expiry = 3
    alive, dead = Sink(), Sink()

    def member(name: str, sink: Sink) -> MqttSource:
        return MqttSource(
            mosquitto.url, sink.submit, client_id=name, shared_group="g", session_expiry_s=expiry
        )

    a, b = member("share-a", alive), member("share-b", dead)
    async with running(a):
        async with running(b):
            await asyncio.wait_for(a.subscribed.wait(), 10)
            await asyncio.wait_for(b.subscribed.wait(), 10)
            seen = b.reconnects
            crash(b)
            # the crash took effect: seen down, or already back (it reconnects within ms)
            await until(lambda: not b.connected or b.reconnects > seen)
        await publish_fast("127.0.0.1", mosquitto.port, messages(100))
        await asyncio.sleep(1)
        assert 0 < len(alive.meters) < 100  # the dead member's share is queued for it
        # restarted within the expiry (same client id), it drains its share
        again = member("share-b", dead)
        async with running(again):
            await until(lambda: len(alive.meters) + len(dead.meters) == 100)
            seen = again.reconnects
            crash(again)
            await until(lambda: not again.connected or again.reconnects > seen)
        assert sorted(alive.meters + dead.meters) == sorted(f"m{i}" for i in range(100))
        # dead for longer than the expiry: the broker ends its session; the group gets all
        await asyncio.sleep(expiry + 1.5)
        before = len(alive.meters)
        await publish_fast("127.0.0.1", mosquitto.port, messages(100, first=100))
        await until(lambda: len(alive.meters) - before == 100)
