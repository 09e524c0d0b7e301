"""Sources -> bounded buffer -> batches (flush on size or time) -> validation -> store.

A source hands decoded items to :meth:`Pipeline.submit` with an optional ``ack`` callback;
the callback runs only after the batch holding those items is committed, so a source that
acknowledges upstream from it (MQTT PUBACK) loses nothing on a crash. Store outages are
retried with jittered capped backoff; nothing is dropped and nothing is acknowledged until
it is stored or quarantined.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TypeVar

from adapters.store import ReadingStore
from core.batch import Columns
from core.config import Settings
from core.errors import StoreError
from core.payload import Decoded
from core.validation import Limits
from ingest.backoff import Backoff
from ingest.buffer import Ack, Buffer, Envelope
from ingest.validate import Validated, Validator

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(slots=True)
class Metrics:
    """In-process counters (the store's counters are the durable ones)."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    conflicts: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    store_failures: int = 0


class Pipeline:
    def __init__(
        self,
        store: ReadingStore,
        *,
        batch_size: int = 10_000,
        batch_delay: float = 0.2,
        capacity: int = 100_000,
        limits: Limits | None = None,
        register_unknown: bool = True,
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.batch_delay = batch_delay
        self.buffer = Buffer(capacity)
        self.validator = Validator(
            store, limits=limits or Limits(), register_unknown=register_unknown
        )
        self.metrics = Metrics()
        self._stopping = asyncio.Event()
        self._flush = False
        self._store_down_since: float | None = None

    def request_flush(self) -> None:
        """Write what is buffered now, without waiting for a full batch or the batch delay.

        A source whose upstream window is nearly full (MQTT Receive Maximum) asks for this:
        its messages are acknowledged only after the commit, so waiting would stall it.
        """
        self._flush = True

    @classmethod
    def from_settings(cls, store: ReadingStore, settings: Settings) -> Pipeline:
        from datetime import timedelta

        return cls(
            store,
            batch_size=settings.batch_size,
            batch_delay=settings.batch_delay_s,
            capacity=settings.queue_readings,
            limits=Limits(
                clock_tolerance=timedelta(seconds=settings.clock_tolerance_s),
                backfill=timedelta(days=settings.backfill_days),
            ),
            register_unknown=settings.unknown_meters == "register",
        )

    async def submit(self, items: Columns | Sequence[Decoded], ack: Ack | None = None) -> None:
        """Queues items (awaits while the buffer is full); ``ack`` runs after their commit."""
        if not isinstance(items, Columns):
            cols = Columns()
            cols.extend(items)
            items = cols
        self.metrics.received += len(items)
        await self.buffer.put(Envelope(items, ack))

    def stop(self) -> None:
        """Stop taking new batches once the buffer is drained (see :meth:`run`)."""
        self._stopping.set()

    async def run(self) -> None:
        """Processes batches until :meth:`stop` and the buffer is empty.

        Two stages overlap: while one batch is being written, the next one is validated.
        The validator's last-value state moves on as soon as a batch is validated — a batch
        is retried until it is written, so it becomes true; only a crash loses it, and then
        it is reloaded from the store.
        """
        writes: asyncio.Queue[tuple[Validated, list[Envelope], str] | None] = asyncio.Queue(1)
        writer = asyncio.create_task(self._writer(writes), name="pipeline-writer")
        try:
            while True:
                if self._stopping.is_set() and not len(self.buffer):
                    break
                waiter = asyncio.ensure_future(self.buffer.wait_not_empty())
                stopper = asyncio.ensure_future(self._stopping.wait())
                await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                stopper.cancel()
                if not waiter.done():
                    waiter.cancel()
                    continue
                # Let a batch fill up to batch_size or batch_delay after its first item.
                deadline = time.monotonic() + self.batch_delay
                while len(self.buffer) < self.batch_size and not self._stopping.is_set():
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._flush:
                        break
                    await asyncio.sleep(min(remaining, 0.005))
                self._flush = False
                envelopes = self.buffer.take(self.batch_size)
                items = _merge(envelopes)
                validated = await self._retry(partial(self.validator.validate, items))
                self.validator.commit(validated)
                job = (validated, envelopes, items.source[0] if items.source else "-")
                put = asyncio.ensure_future(writes.put(job))
                await asyncio.wait({put, writer}, return_when=asyncio.FIRST_COMPLETED)
                if writer.done():
                    put.cancel()
                    writer.result()  # the writer failed: raise its error
        finally:
            if not writer.done():
                await writes.put(None)
            await writer

    async def _writer(
        self, writes: asyncio.Queue[tuple[Validated, list[Envelope], str] | None]
    ) -> None:
        while (job := await writes.get()) is not None:
            await self._write(*job)

    async def _retry(self, step: Callable[[], Awaitable[T]]) -> T:
        """Runs a store step until it succeeds, with jittered capped backoff."""
        backoff = Backoff()
        while True:
            try:
                result = await step()
            except StoreError as exc:
                self.metrics.store_failures += 1
                if self._store_down_since is None:
                    self._store_down_since = time.monotonic()
                    log.warning("store unavailable, retrying with backoff: %s", exc)
                await asyncio.sleep(backoff.next_delay())
                continue
            if self._store_down_since is not None:
                log.warning(
                    "store recovered after %.1f s", time.monotonic() - self._store_down_since
                )
                self._store_down_since = None
            return result

    async def _write(self, v: Validated, envelopes: list[Envelope], source: str) -> None:
        result = await self._retry(
            lambda: self.store.write_arrays(
                v.meter, v.ts, v.value, v.kind, v.flags, v.end, v.quarantine, source=source
            )
        )
        m = self.metrics
        m.batches += 1
        m.stored += result.inserted
        m.duplicates += result.duplicates
        m.conflicts += result.conflicts
        for q in v.quarantine:
            m.quarantined[q.reason] += 1
        for env in envelopes:
            if env.ack is not None:
                env.ack()


def _merge(envelopes: list[Envelope]) -> Columns:
    if len(envelopes) == 1:
        return envelopes[0].items
    items = Columns()
    for env in envelopes:
        items.merge(env.items)
    return items
