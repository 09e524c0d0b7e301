"""Test helpers: publish with a real MQTT client and run a gateway in-process."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

import aiomqtt

from adapters.store import ReadingStore
from core.config import Settings
from ingest.gateway import run_gateway
from tests.services import Mosquitto


async def publish(broker: Mosquitto, messages: Iterable[tuple[str, Any]], *, qos: int = 1) -> int:
    n = 0
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier=f"pub-{id(messages)}") as c:
        for topic, payload in messages:
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            await c.publish(topic, data, qos=qos)
            n += 1
    return n


def reading(meter: str, ts: str, value: float, channel: str = "cold_water", unit: str = "m3"):
    return {"meter": meter, "channel": channel, "ts": ts, "value": value, "unit": unit}


@contextlib.asynccontextmanager
async def gateway(settings: Settings, db_url: str) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    ready = asyncio.Event()
    task = asyncio.create_task(run_gateway(settings, db_url, stop, drain_seconds=10, ready=ready))
    try:
        await asyncio.wait_for(ready.wait(), 20)
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


async def wait_for_stats(db_url: str, predicate, *, timeout: float = 30.0) -> dict[str, Any]:  # noqa: ASYNC109
    store = await ReadingStore.open(db_url)
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            stats = await store.stats()
            if predicate(stats):
                return stats
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"stats never matched: {stats}")
            await asyncio.sleep(0.2)
    finally:
        await store.close()
