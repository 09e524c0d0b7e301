"""The pipeline against an in-memory twin of the store: batching by size and time,
backpressure, acknowledgement only after the commit, retry of transient store errors and
isolation (no retry) of permanent ones. Pure logic: milliseconds, no services."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from adapters.store.registry import Meter, MeterKey, Registry
from adapters.store.writer import BatchResult, QuarantineRow
from core.batch import Columns, FastDecoder
from core.errors import StoreError
from ingest.intake import Intake
from ingest.pipeline import Pipeline

NOW = datetime.now(UTC)


class TwinStore:
    """The store interface the intake uses, in memory: the readings of each committed batch."""

    def __init__(self) -> None:
        self.registry = Registry()
        self.batches: list[int] = []
        self.rows: set[tuple[int, int]] = set()
        self.quarantine: list[QuarantineRow] = []
        self.transient_failures = 0
        self.refuse_value: float | None = None
        self.calls = 0
        self.gate: asyncio.Event | None = None

    async def resolve(self, keys: Sequence[MeterKey], *, register: bool) -> dict[MeterKey, Meter]:
        out = {}
        for key in keys:
            if key not in self.registry.ids and register:
                m = Meter(len(self.registry.ids) + 1, *key, "cold_water", None, None, None)
                self.registry.ids[key] = m.id
                self.registry.by_id[m.id] = m
            if key in self.registry.ids:
                out[key] = self.registry.by_id[self.registry.ids[key]]
        return out

    async def last_registers(self, meter_ids):
        return {}

    async def neighbours(self, keys):
        return {}

    async def write_arrays(self, meter, ts, value, kind, flags, end, quarantine, **_kw):
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.transient_failures:
            self.transient_failures -= 1
            raise StoreError("connection lost", retryable=True)
        if self.refuse_value is not None and np.any(value == self.refuse_value):
            raise StoreError("value refused", retryable=False)
        keys = set(zip(meter.tolist(), ts.tolist(), strict=True))
        new = keys - self.rows
        self.rows |= new
        self.quarantine += quarantine
        if len(meter):
            self.batches.append(len(meter))
        return BatchResult(len(new), len(meter) - len(new), 0, len(quarantine))


def _cols(n: int, *, start: int = 0, value: float | None = None) -> Columns:
    cols = Columns()
    FastDecoder("mqtt").decode(
        [
            {
                "meter": f"m{i}",
                "channel": "cold_water",
                "ts": (NOW - timedelta(minutes=1)).isoformat(),
                "value": float(i) if value is None else value,
            }
            for i in range(start, start + n)
        ],
        topic_meter=None,
        out=cols,
    )
    return cols


async def _run(pipeline: Pipeline) -> asyncio.Task[None]:
    return asyncio.create_task(pipeline.run())


async def _stop(pipeline: Pipeline, task: asyncio.Task[None]) -> None:
    pipeline.stop()
    await asyncio.wait_for(task, 5)


async def test_batches_close_on_size() -> None:
    store = TwinStore()
    p = Pipeline(Intake(store), batch_size=100, batch_delay=10.0)  # type: ignore[arg-type]
    task = await _run(p)
    for i in range(5):  # envelopes are never split: five of 50
        await p.submit(_cols(50, start=50 * i))
    await asyncio.sleep(0.05)
    assert store.batches[:2] == [100, 100]  # the delay (10 s) did not hold full batches back
    await _stop(p, task)
    assert sum(store.batches) == 250


async def test_batches_close_on_time() -> None:
    store = TwinStore()
    p = Pipeline(Intake(store), batch_size=10_000, batch_delay=0.02)  # type: ignore[arg-type]
    task = await _run(p)
    await p.submit(_cols(5))
    await asyncio.sleep(0.2)
    assert store.batches == [5]
    await _stop(p, task)


async def test_ack_only_after_the_commit() -> None:
    store = TwinStore()
    store.gate = asyncio.Event()
    acked: list[int] = []
    p = Pipeline(Intake(store), batch_size=10, batch_delay=0.001)  # type: ignore[arg-type]
    task = await _run(p)
    await p.submit(_cols(3), ack=lambda: acked.append(3))
    await asyncio.sleep(0.05)
    assert store.calls == 1 and acked == []  # written but not committed yet
    store.gate.set()
    await asyncio.sleep(0.05)
    assert acked == [3]
    await _stop(p, task)


async def test_backpressure_makes_sources_wait() -> None:
    store = TwinStore()
    store.gate = asyncio.Event()  # the store hangs: nothing drains
    p = Pipeline(Intake(store), batch_size=10, batch_delay=0.001, capacity=30)  # type: ignore[arg-type]
    task = await _run(p)
    submitted = 0
    with pytest.raises(TimeoutError):
        for i in range(20):
            await asyncio.wait_for(p.submit(_cols(10, start=10 * i)), 0.1)
            submitted += 1
    assert submitted < 20
    assert len(p.buffer) <= 30
    store.gate.set()
    await _stop(p, task)


async def test_transient_errors_are_retried_until_committed() -> None:
    store = TwinStore()
    store.transient_failures = 3
    acked: list[bool] = []
    p = Pipeline(Intake(store), batch_size=10, batch_delay=0.001)  # type: ignore[arg-type]
    task = await _run(p)
    await p.submit(_cols(4), ack=lambda: acked.append(True))
    for _ in range(200):
        if acked:
            break
        await asyncio.sleep(0.02)
    assert acked == [True]
    assert store.calls == 4
    assert p.metrics.store_failures == 3 and p.metrics.stored == 4
    await _stop(p, task)


async def test_a_permanent_error_is_isolated_not_retried() -> None:
    store = TwinStore()
    store.refuse_value = 7.0
    p = Pipeline(Intake(store), batch_size=100, batch_delay=0.001)  # type: ignore[arg-type]
    task = await _run(p)
    await p.submit(_cols(16))
    await _stop(p, task)
    assert p.metrics.stored == 15
    assert p.metrics.quarantined == {"store_refused": 1}
    assert p.metrics.store_failures == 0
    # bisection: log2(16) levels, not one write per row
    assert store.calls <= 2 * 16


async def test_without_retry_a_transient_error_reaches_the_caller() -> None:
    store = TwinStore()
    store.transient_failures = 1
    intake = Intake(store, retry=False)  # type: ignore[arg-type]
    with pytest.raises(StoreError):
        await intake.ingest(_cols(2), source="api")


async def test_an_unexpected_failure_puts_the_batch_back_for_the_next_run() -> None:
    store = TwinStore()
    failures = [RuntimeError("driver state broke")]
    write = store.write_arrays

    async def flaky(*args, **kwargs):
        if failures:
            raise failures.pop()
        return await write(*args, **kwargs)

    store.write_arrays = flaky  # type: ignore[method-assign]
    acked: list[int] = []
    p = Pipeline(Intake(store), batch_size=10, batch_delay=0.001)  # type: ignore[arg-type]
    await p.submit(_cols(4), ack=lambda: acked.append(4))
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(p.run(), 5)
    assert acked == [] and len(p.buffer) == 4  # back in the buffer, unacknowledged
    task = await _run(p)  # what the supervisor does: run again
    await _stop(p, task)
    assert acked == [4] and p.metrics.stored == 4


async def test_nothing_is_lost_when_the_writer_fails_behind_a_queued_batch() -> None:
    store = TwinStore()
    failures = [RuntimeError("driver state broke")]
    write = store.write_arrays
    gate = asyncio.Event()

    async def slow_then_flaky(*args, **kwargs):
        await gate.wait()
        if failures:
            raise failures.pop()
        return await write(*args, **kwargs)

    store.write_arrays = slow_then_flaky  # type: ignore[method-assign]
    acked: list[int] = []
    p = Pipeline(Intake(store), batch_size=5, batch_delay=0.001)  # type: ignore[arg-type]
    run = await _run(p)
    for i in range(4):  # batches pile up behind the stuck writer
        await p.submit(_cols(5, start=5 * i), ack=lambda i=i: acked.append(i))
    await asyncio.sleep(0.05)
    gate.set()
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(run, 5)
    again = await _run(p)
    await _stop(p, again)
    assert sorted(acked) == [0, 1, 2, 3] and p.metrics.stored == 20
