"""The gateway process: configured sources into the store until told to stop.

Stop (SIGINT/SIGTERM) = stop intake, drain the buffer (commit, acknowledge), disconnect,
log one summary line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path

from adapters.modbus.devices import load_devices
from adapters.modbus.poller import Poller
from adapters.mqtt import MqttSource
from adapters.store import ReadingStore
from core.backoff import Backoff
from core.config import Settings
from core.errors import ConfigError, StoreError
from core.mappings import parse_mappings
from core.payload import Mapping
from core.reading import Reading
from ingest.file_import import FileImporter
from ingest.health_http import serve_health
from ingest.inbox import watch_inbox
from ingest.intake import Intake
from ingest.pipeline import Pipeline
from ingest.schedule import vee_schedule
from ingest.supervisor import Supervised

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
    """Vendor payload mappings from UCHET_MQTT_MAPPINGS; ConfigError names what is wrong.

    The setting is inline JSON (a list of mapping objects and/or built-in names), a path to a
    JSON file of the same, or comma-separated built-in names. Mappings without a time zone of
    their own read device times in UCHET_TIMEZONE.
    """
    value = settings.mqtt_mappings
    if value is None:
        return []
    text, origin = str(value), ""
    inline = text.strip()[:1] in ("[", "{")
    if not inline and (isinstance(value, Path) or "/" in text or text.endswith(".json")):
        try:
            text, origin = Path(value).read_text(encoding="utf-8"), f" file {value}"
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"UCHET_MQTT_MAPPINGS: cannot read {value}: {exc}") from exc
    return parse_mappings(text, default_timezone=settings.timezone, origin=origin)


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


class Gateway:
    """The configured sources and the pipeline, as one unit with a start, a stop and counters.

    Every source runs under a :class:`Supervised` (logged once per failure, restarted with
    backoff, counted), all of them in one task group.
    """

    def __init__(self, settings: Settings, database_url: str) -> None:
        self.settings = settings
        self.database_url = database_url
        self.pipeline: Pipeline | None = None
        self.mqtt: MqttSource | None = None
        self.modbus: Poller | None = None
        self.supervised: dict[str, Supervised] = {}

    def health(self) -> dict[str, dict[str, object]]:
        """Each supervised source's state, restarts, last error and own figures."""
        return {name: sup.report() for name, sup in self.supervised.items()}

    def _sources(
        self, pipeline: Pipeline, store: ReadingStore, stop: asyncio.Event
    ) -> dict[str, Supervised]:
        s = self.settings
        sources: dict[str, Supervised] = {}
        if s.mqtt_url:
            mqtt = self.mqtt = MqttSource(
                s.mqtt_url,
                pipeline.submit,
                client_id=s.mqtt_client_id,
                topic_prefix=s.mqtt_topic_prefix,
                shared_group=s.mqtt_shared_group,
                qos=s.mqtt_qos,
                mappings=load_mappings(s),
                receive_maximum=s.mqtt_receive_maximum,
                session_expiry_s=s.mqtt_session_expiry_s,
                protocol=s.mqtt_protocol,
                request_flush=pipeline.request_flush,
                ca_file=str(s.mqtt_ca_file) if s.mqtt_ca_file else None,
            )
            sources["mqtt"] = Supervised("mqtt", mqtt.run, stop, detail=mqtt.health)
        if s.modbus_devices:
            poller = self.modbus = Poller(load_devices(s.modbus_devices), _PipelineSink(pipeline))
            sources["modbus"] = Supervised(
                "modbus", poller.run, stop, detail=lambda: _device_states(poller)
            )
        if s.askue_inbox_interval_s > 0:
            importer = FileImporter(
                pipeline.intake,
                tz=s.timezone,
                home=s.home,
                max_bytes=s.askue_max_bytes,
                timeout_s=s.askue_timeout_s,
            )
            sources["inbox"] = Supervised(
                "inbox",
                lambda: watch_inbox(
                    importer, s.home, interval_s=s.askue_inbox_interval_s, stop=stop
                ),
                stop,
            )
        if s.health_port is not None:
            sources["http"] = Supervised(
                "http",
                lambda: serve_health(
                    self.health, host=s.health_host, port=s.health_port or 0, stop=stop
                ),
                stop,
            )
        if s.vee_interval_s > 0:
            sources["vee"] = Supervised(
                "vee",
                lambda: vee_schedule(
                    store,
                    interval_s=s.vee_interval_s,
                    timezone=s.timezone,
                    stop=stop,
                    vee=s.vee_settings(),
                    chunk_houses=s.vee_chunk_houses,
                ),
                stop,
            )
        return sources

    async def run(
        self,
        stop: asyncio.Event,
        *,
        drain_seconds: float = 30.0,
        ready: asyncio.Event | None = None,
    ) -> Summary:
        """Runs until ``stop``; ``ready`` is set once every source is subscribed / polling."""
        started = time.monotonic()
        store = await open_store_with_retry(self.database_url, stop)
        if store is None:
            return Summary(0, 0, 0, 0, 0, 0.0)
        intake = Intake.from_settings(store, self.settings)
        pipeline = self.pipeline = Pipeline.from_settings(intake, self.settings)
        sources = self._sources(pipeline, store, stop)
        if not any(name in sources for name in ("mqtt", "modbus", "inbox")):
            log.warning("no sources configured (UCHET_MQTT_URL, UCHET_MODBUS_DEVICES): idling")
        writer = Supervised("pipeline", pipeline.run, stop, detail=lambda: _totals(pipeline))
        self.supervised = {"pipeline": writer, **sources}
        try:
            async with asyncio.TaskGroup() as tg:
                worker = tg.create_task(writer.run(), name="pipeline")
                tasks = {
                    name: tg.create_task(sup.run(), name=name) for name, sup in sources.items()
                }
                health = tg.create_task(self._save_health(store, stop), name="health")
                if ready is not None:
                    if self.mqtt is not None:
                        await _first(self.mqtt.subscribed.wait(), stop.wait())
                    ready.set()
                await stop.wait()
                if self.mqtt is not None:
                    self.mqtt.stop_intake()
                for name, task in tasks.items():
                    if name not in ("mqtt", "http"):  # MQTT acks the drained; /health reports it
                        task.cancel()  # pollers stop at once; what they read is already queued
                pipeline.stop()
                try:
                    await asyncio.wait_for(asyncio.shield(worker), drain_seconds)
                except TimeoutError:
                    log.warning(
                        "drain did not finish in %.0f s; unacknowledged data stays upstream",
                        drain_seconds,
                    )
                    worker.cancel()
                for task in tasks.values():
                    task.cancel()
                await health
        finally:
            if self.modbus is not None:
                self.modbus.close()
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
            " quarantined %d, source restarts %s",
            summary.seconds,
            summary.received,
            summary.stored,
            summary.duplicates,
            summary.conflicts,
            summary.quarantined,
            {n: sup.health.restarts for n, sup in self.supervised.items()},
        )
        return summary

    async def _save_health(self, store: ReadingStore, stop: asyncio.Event) -> None:
        """Writes the sources' and polled devices' health for ``uchet stats`` and the API,
        every ``health_interval_s`` and once more at the end."""
        gateway = self.settings.mqtt_client_id
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.settings.health_interval_s)
            try:
                await store.save_source_health(gateway, self.health())
                if self.modbus is not None:
                    await store.save_device_health(
                        "modbus", gateway, list(self.modbus.health().values())
                    )
            except StoreError as exc:
                log.warning("health not saved: %s", exc)
            if stop.is_set():
                return


def _device_states(poller: Poller) -> dict[str, object]:
    states = [h.state for h in poller.health().values()]
    return {state: states.count(state) for state in sorted(set(states))}


def _totals(pipeline: Pipeline) -> dict[str, object]:
    m = pipeline.metrics
    return {
        "received": m.received,
        "stored": m.stored,
        "duplicates": m.duplicates,
        "conflicts": m.conflicts,
        "quarantined": dict(m.quarantined),
        "store_failures": m.store_failures,
        "refused_rows": m.refused_rows,
        "buffered": len(pipeline.buffer),
    }


class _PipelineSink:
    """What a poller submits to: readings without an upstream acknowledgement."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    async def submit(self, readings: Sequence[Reading]) -> None:
        await self.pipeline.submit(readings)


async def run_gateway(
    settings: Settings,
    database_url: str,
    stop: asyncio.Event,
    *,
    drain_seconds: float = 30.0,
    ready: asyncio.Event | None = None,
) -> Summary:
    """Runs a :class:`Gateway` until ``stop``."""
    return await Gateway(settings, database_url).run(stop, drain_seconds=drain_seconds, ready=ready)
