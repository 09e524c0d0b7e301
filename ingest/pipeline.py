"""Sources -> bounded buffer -> batches (flush on size or time) -> :class:`Intake` -> store.

A source hands decoded items to :meth:`Pipeline.submit` with an optional ``ack`` callback;
the callback runs only after the batch holding those items is committed, so a source that
acknowledges upstream from it (MQTT PUBACK) loses nothing on a crash. The intake retries store
outages with jittered capped backoff and isolates rows the database refuses; nothing is
dropped and nothing is acknowledged until it is stored or quarantined.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from core.batch import Columns
from core.config import Settings
from core.payload import Decoded
from ingest.buffer import Ack, Buffer, Envelope
from ingest.intake import Intake, IntakeTotals
from ingest.validate import Validated

log = logging.getLogger(__name__)

Metrics = IntakeTotals
"""The pipeline's counters are its intake's."""


class Pipeline:
    def __init__(
        self,
        intake: Intake,
        *,
        batch_size: int = 10_000,
        batch_delay: float = 0.2,
        capacity: int = 100_000,
    ) -> None:
        self.intake = intake
        self.batch_size = batch_size
        self.batch_delay = batch_delay
        self.buffer = Buffer(capacity)
        self._stopping = asyncio.Event()
        self._flush = False

    @property
    def metrics(self) -> IntakeTotals:
        return self.intake.totals

    def request_flush(self) -> None:
        """Write what is buffered now, without waiting for a full batch or the batch delay.

        A source whose upstream window is nearly full (MQTT Receive Maximum) asks for this:
        its messages are acknowledged only after the commit, so waiting would stall it.
        """
        self._flush = True

    @classmethod
    def from_settings(cls, intake: Intake, settings: Settings) -> Pipeline:
        return cls(
            intake,
            batch_size=settings.batch_size,
            batch_delay=settings.batch_delay_s,
            capacity=settings.queue_readings,
        )

    async def submit(self, items: Columns | Sequence[Decoded], ack: Ack | None = None) -> None:
        """Queues items (awaits while the buffer is full); ``ack`` runs after their commit."""
        if not isinstance(items, Columns):
            cols = Columns()
            cols.extend(items)
            items = cols
        await self.buffer.put(Envelope(items, ack))

    def stop(self) -> None:
        """Stop taking new batches once the buffer is drained (see :meth:`run`)."""
        self._stopping.set()

    async def run(self) -> None:
        """Processes batches until :meth:`stop` and the buffer is empty.

        Two stages overlap: while one batch is being written, the next one is validated
        (:meth:`Intake.prepare` moves the last-value state on; :meth:`Intake.write` commits,
        retrying outages and quarantining refused rows, so the state becomes true).
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
                try:
                    validated = await self.intake.prepare(items)
                except BaseException:
                    self.buffer.put_back(envelopes)  # not lost: the next run takes them again
                    raise
                job = (validated, envelopes, items.source[0] if items.source else "-")
                put = asyncio.ensure_future(writes.put(job))
                await asyncio.wait({put, writer}, return_when=asyncio.FIRST_COMPLETED)
                if writer.done():  # the writer failed: this batch goes back, then its error
                    if put.done():
                        while not writes.empty():
                            queued = writes.get_nowait()
                            if queued is not None:
                                self.buffer.put_back(queued[1])
                    else:
                        put.cancel()
                        self.buffer.put_back(envelopes)
                    writer.result()
        finally:
            if not writer.done():
                await writes.put(None)
            await writer

    async def _writer(
        self, writes: asyncio.Queue[tuple[Validated, list[Envelope], str] | None]
    ) -> None:
        while (job := await writes.get()) is not None:
            validated, envelopes, source = job
            try:
                await self.intake.write(validated, source=source)
            except BaseException:
                # An unexpected failure (the intake retries outages and isolates refusals):
                # this batch and any queued behind it go back, unacknowledged, for the next
                # run of the pipeline (its supervisor restarts it); nothing is lost.
                while not writes.empty():
                    queued = writes.get_nowait()
                    if queued is not None:
                        self.buffer.put_back(queued[1])
                self.buffer.put_back(envelopes)
                raise
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
