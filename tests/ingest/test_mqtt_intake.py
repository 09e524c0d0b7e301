"""The gateway bounds what it holds from MQTT itself, not only through the broker's quota."""

from __future__ import annotations

import asyncio
import json

import aiomqtt
import pytest

from adapters.mqtt import MqttSource
from adapters.mqtt_intake import IntakeGate
from core.batch import Columns
from simulators.fastpub import publish_fast
from tests.mqtt_tools import reading
from tests.services import Mosquitto

pytestmark = pytest.mark.mqtt


async def test_intake_gate_stops_reading_at_the_high_mark_and_resumes(mosquitto: Mosquitto):
    # No Receive Maximum asked (65,535): only the gate bounds what the client holds.
    client = aiomqtt.Client(
        "127.0.0.1", mosquitto.port, identifier="gate", queue_type=IntakeGate.bounded(50)
    )
    gate: IntakeGate = client._queue  # type: ignore[assignment]
    gate.attach(client)
    async with client:
        await client.subscribe("t/#", qos=1)
        n = await publish_fast(
            "127.0.0.1", mosquitto.port, ((f"t/{i}", b"%d" % i) for i in range(2_000)), qos=1
        )
        assert n == 2_000
        async with asyncio.timeout(10):
            while not gate.paused:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)  # the broker has 1,950 more for us: none is read
        assert gate.paused
        assert 50 <= gate.qsize() <= 51  # paho reads one packet per readable event
        got = []
        async with asyncio.timeout(20):
            while len(got) < 2_000:
                got.append(int((await gate.get()).payload))
        assert sorted(got) == list(range(2_000))  # nothing lost while paused
        assert not gate.paused


async def test_a_paused_gate_reads_on_for_the_reply_to_a_subscribe(mosquitto: Mosquitto):
    # 80 messages wait for a client that pauses at 50: the SUBACK of a second subscription
    # lies behind the other 30 in the stream, within the gate's allowance for replies.
    client = aiomqtt.Client(
        "127.0.0.1", mosquitto.port, identifier="gate-r", queue_type=IntakeGate.bounded(50)
    )
    gate: IntakeGate = client._queue  # type: ignore[assignment]
    gate.attach(client)
    async with client:
        await client.subscribe("t/#", qos=1)
        await publish_fast(
            "127.0.0.1", mosquitto.port, ((f"t/{i}", b"%d" % i) for i in range(80)), qos=1
        )
        async with asyncio.timeout(10):
            while not gate.paused:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        assert gate.qsize() < 80
        await client.subscribe("u/#", qos=1, timeout=5)  # would time out behind the data
        assert gate.qsize() == 80  # read on to the SUBACK
        assert not gate.awaiting_reply()


async def test_a_paused_gate_reads_on_for_a_pingresp_and_the_connection_lives(
    mosquitto: Mosquitto,
):
    # The consumer takes nothing for several keepalives: paho pings, and the PINGRESP lies
    # behind 30 messages the paused gate has not read. Unread, paho would drop the connection.
    client = aiomqtt.Client(
        "127.0.0.1",
        mosquitto.port,
        identifier="gate-p",
        keepalive=2,
        queue_type=IntakeGate.bounded(50),
    )
    gate: IntakeGate = client._queue  # type: ignore[assignment]
    gate.attach(client)
    async with client:
        await client.subscribe("t/#", qos=1)
        await publish_fast(
            "127.0.0.1", mosquitto.port, ((f"t/{i}", b"%d" % i) for i in range(80)), qos=1
        )
        await asyncio.sleep(7)
        assert not client._disconnected.done()
        assert gate.qsize() == 80
        got = [int((await gate.get()).payload) for _ in range(80)]
    assert sorted(got) == list(range(80))


async def test_array_messages_are_submitted_in_envelopes_of_bounded_readings(
    mosquitto: Mosquitto,
):
    envelopes: list[int] = []
    acks = []

    async def submit(items, ack):
        assert isinstance(items, Columns)
        envelopes.append(len(items))
        acks.append(ack)
        if len(envelopes) == 1:
            await asyncio.sleep(0.5)  # a slow pipeline: the rest arrives meanwhile

    source = MqttSource(mosquitto.url, submit, client_id="env", burst=1_000)
    task = asyncio.create_task(source.run())
    try:
        await asyncio.wait_for(source.subscribed.wait(), 10)
        payload = json.dumps(
            [reading(f"m{i}", "2026-03-01T00:00:00+00:00", 1.0) for i in range(100)]
        ).encode()
        await publish_fast(
            "127.0.0.1", mosquitto.port, (("meters/readings", payload) for _ in range(200)), qos=1
        )
        async with asyncio.timeout(10):
            while sum(envelopes) < 20_000:
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert sum(envelopes) == 20_000
    # The backlog that gathered meanwhile is cut into envelopes of about ``burst`` readings
    assert max(envelopes) <= 1_000 + 99
    assert len(envelopes) >= 20
    assert all(ack is not None for ack in acks)
