"""The gateway process: configured sources into the store until told to stop.

Stop (SIGINT/SIGTERM) = stop intake, drain the buffer (commit, acknowledge), disconnect,
log one summary line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass

from adapters.mqtt import MqttSource
from adapters.store import ReadingStore
from core.config import Settings
from core.errors import StoreError
from core.payload import BUILTIN_MAPPINGS, Mapping
from ingest.backoff import Backoff
from ingest.pipeline import Pipeline

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Summary:
    received: int
    stored: int
    duplicates: int
    conflicts: int
    quarantined: int
    seconds: float


def load_mappings(settings: Settings) -> list[Mapping]:
    """Vendor payload mappings: a JSON list of mapping objects or built-in names."""
    if settings.mqtt_mappings is None:
        return []
    doc = json.loads(settings.mqtt_mappings.read_text(encoding="utf-8"))
    return [BUILTIN_MAPPINGS[m] if isinstance(m, str) else Mapping.model_validate(m) for m in doc]


async def _first(*aws: Awaitable[object]) -> None:
    tasks = [asyncio.ensure_future(a) for a in aws]
    _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for t in pending:
        t.cancel()


async def open_store_with_retry(url: str, stop: asyncio.Event) -> ReadingStore | None:
    backoff = Backoff(base=0.5, cap=15)
    while not stop.is_set():
        try:
            return await ReadingStore.open(url)
        except StoreError as exc:
            if not exc.retryable:
                raise
            log.warning("database unavailable at start, retrying: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff.next_delay())
    return None


async def run_gateway(
    settings: Settings,
    database_url: str,
    stop: asyncio.Event,
    *,
    drain_seconds: float = 30.0,
    ready: asyncio.Event | None = None,
) -> Summary:
    """Runs until ``stop``; ``ready`` is set once every source is subscribed / polling."""
    started = time.monotonic()
    store = await open_store_with_retry(database_url, stop)
    if store is None:
        return Summary(0, 0, 0, 0, 0, 0.0)
    pipeline = Pipeline.from_settings(store, settings)
    sources: list[MqttSource] = []
    if settings.mqtt_url:
        sources.append(
            MqttSource(
                settings.mqtt_url,
                pipeline.submit,
                client_id=settings.mqtt_client_id,
                topic_prefix=settings.mqtt_topic_prefix,
                shared_group=settings.mqtt_shared_group,
                qos=settings.mqtt_qos,
                mappings=load_mappings(settings),
                receive_maximum=settings.mqtt_receive_maximum,
                protocol=settings.mqtt_protocol,
                request_flush=pipeline.request_flush,
            )
        )
    if not sources:
        log.warning("no sources configured (set UCHET_MQTT_URL); the gateway only idles")
    try:
        worker = asyncio.create_task(pipeline.run(), name="pipeline")
        tasks = [asyncio.create_task(s.run(), name="mqtt") for s in sources]
        if ready is not None:
            for s in sources:
                await _first(s.subscribed.wait(), stop.wait())
            ready.set()
        await stop.wait()
        for s in sources:
            s.stop_intake()
        pipeline.stop()
        try:
            await asyncio.wait_for(asyncio.shield(worker), drain_seconds)
        except TimeoutError:
            log.warning(
                "drain did not finish in %.0f s; unacknowledged data stays upstream", drain_seconds
            )
            worker.cancel()
        for t in tasks:
            t.cancel()
        await asyncio.gather(worker, *tasks, return_exceptions=True)
    finally:
        await store.close()
    m = pipeline.metrics
    summary = Summary(
        received=m.received,
        stored=m.stored,
        duplicates=m.duplicates,
        conflicts=m.conflicts,
        quarantined=sum(m.quarantined.values()),
        seconds=time.monotonic() - started,
    )
    log.info(
        "gateway stopped after %.1f s: received %d, stored %d, duplicates %d, conflicts %d,"
        " quarantined %d",
        summary.seconds,
        summary.received,
        summary.stored,
        summary.duplicates,
        summary.conflicts,
        summary.quarantined,
    )
    return summary
