"""The Modbus poller: polls a device list on schedule and hands readings to the pipeline.

One task per bus (TCP endpoint) walks its devices in due order, so a gateway carries one
request at a time while different gateways poll concurrently. Each device has its own
breaker: a dead device is retried with jittered, capped backoff and costs its bus at most
one timeout per attempt; a dead gateway costs nothing between its connect attempts.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from adapters.modbus.breaker import Breaker
from adapters.modbus.bus import Bus
from adapters.modbus.devices import Device
from adapters.modbus.errors import DeviceTimeout, GatewayUnreachable, ModbusError
from adapters.modbus.planner import Block, next_slot, plan_blocks
from core.errors import PayloadError
from core.reading import Reading

log = logging.getLogger(__name__)

SOURCE = "modbus"


class ReadingSink(Protocol):
    """Where polled readings go (the ingest pipeline; a list in tests)."""

    async def submit(self, readings: Sequence[Reading]) -> None: ...


class ListSink:
    """The in-memory sink: keeps every submitted reading."""

    def __init__(self) -> None:
        self.readings: list[Reading] = []

    async def submit(self, readings: Sequence[Reading]) -> None:
        self.readings.extend(readings)


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """A device's state as ``uchet stats`` and the API show it.

    state: ``unknown`` (not polled yet), ``online`` or ``offline`` (breaker open).
    since: when the device entered that state.
    """

    meter: str
    bus: str
    unit: int
    state: str
    since: datetime
    consecutive_failures: int
    last_error: str | None
    requests: int
    last_success: datetime | None
    decode_errors: int

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("since", "last_success"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return data


@dataclass(slots=True)
class _DeviceState:
    device: Device
    blocks: list[Block]
    breaker: Breaker
    since: datetime
    state: str = "unknown"
    last_error: str | None = None
    requests: int = 0
    last_success: datetime | None = None
    decode_errors: int = 0
    reported_decode: set[str] = field(default_factory=set)


def _cancel_swallowed() -> bool:
    """A cancel of this task was requested but did not reach us as CancelledError."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


@dataclass(frozen=True, slots=True)
class PollerStats:
    """Counters over the poller's life; lateness is of scheduled polls (not retries)."""

    requests: int
    readings: int
    failed_polls: int
    lateness_p50_s: float
    lateness_p99_s: float
    lateness_max_s: float
    lateness_samples: int


def _percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Poller:
    """Polls ``devices`` until cancelled: ``await poller.run()``."""

    def __init__(
        self,
        devices: Sequence[Device],
        sink: ReadingSink,
        *,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        lateness_window: int = 100_000,
    ) -> None:
        self._sink = sink
        self._clock = clock
        rng = rng or random.Random()
        started = datetime.fromtimestamp(clock(), UTC)
        self._buses: dict[tuple[str, int], Bus] = {}
        self._by_bus: dict[tuple[str, int], list[_DeviceState]] = {}
        self._states: dict[str, _DeviceState] = {}
        plans: dict[tuple[int, int], list[Block]] = {}
        for device in devices:
            if device.meter in self._states:
                raise ValueError(f"meter {device.meter!r} listed twice")
            plan_key = (id(device.profile), device.max_gap)
            if plan_key not in plans:
                plans[plan_key] = plan_blocks(device.profile.registers, max_gap=device.max_gap)
            state = _DeviceState(
                device=device,
                blocks=plans[plan_key],
                breaker=Breaker(
                    threshold=device.failure_threshold,
                    base_s=device.backoff_base_s,
                    max_s=device.backoff_max_s,
                    rng=rng,
                ),
                since=started,
            )
            self._states[device.meter] = state
            self._by_bus.setdefault(device.bus, []).append(state)
        for key, states in self._by_bus.items():
            self._buses[key] = Bus(
                key[0],
                key[1],
                backoff_base_s=min(s.device.backoff_base_s for s in states),
                backoff_max_s=min(s.device.backoff_max_s for s in states),
                rng=rng,
            )
        self._readings = 0
        self._failed_polls = 0
        self._lateness: deque[float] = deque(maxlen=lateness_window)

    # -- public -------------------------------------------------------------------------

    def health(self) -> dict[str, DeviceHealth]:
        """Every device's current health, by meter id."""
        return {
            meter: DeviceHealth(
                meter=meter,
                bus=f"{s.device.host}:{s.device.port}",
                unit=s.device.unit,
                state=s.state,
                since=s.since,
                consecutive_failures=s.breaker.failures,
                last_error=s.last_error,
                requests=s.requests,
                last_success=s.last_success,
                decode_errors=s.decode_errors,
            )
            for meter, s in self._states.items()
        }

    def stats(self) -> PollerStats:
        ordered = sorted(self._lateness)
        return PollerStats(
            requests=sum(bus.requests for bus in self._buses.values()),
            readings=self._readings,
            failed_polls=self._failed_polls,
            lateness_p50_s=_percentile(ordered, 0.50),
            lateness_p99_s=_percentile(ordered, 0.99),
            lateness_max_s=ordered[-1] if ordered else 0.0,
            lateness_samples=len(ordered),
        )

    async def poll_once(self) -> None:
        """Polls every device once now (buses concurrently), ignoring schedules and backoff."""

        async def one_bus(states: list[_DeviceState]) -> None:
            for state in states:
                await self._poll(state)

        try:
            async with asyncio.TaskGroup() as tg:
                for states in self._by_bus.values():
                    tg.create_task(one_bus(states))
        finally:
            self.close()

    async def run(self) -> None:
        """Polls on schedule until cancelled; then closes connections and logs a summary."""
        try:
            async with asyncio.TaskGroup() as tg:
                for key, states in self._by_bus.items():
                    tg.create_task(self._bus_loop(states), name=f"modbus {key[0]}:{key[1]}")
        finally:
            self.close()
            health = self.health().values()
            log.info(
                "modbus poller stopped: %d devices (%d online, %d offline), %d requests, "
                "%d readings",
                len(self._states),
                sum(h.state == "online" for h in health),
                sum(h.state == "offline" for h in health),
                self.stats().requests,
                self._readings,
            )

    def close(self) -> None:
        for bus in self._buses.values():
            bus.close()

    # -- internals ----------------------------------------------------------------------

    async def _bus_loop(self, states: list[_DeviceState]) -> None:
        now = self._clock()
        heap = [
            (next_slot(now, interval_s=s.device.interval_s, phase_s=s.device.phase_s), i, True)
            for i, s in enumerate(states)
        ]
        heapq.heapify(heap)
        while True:
            due, index, scheduled = heap[0]
            delay = due - self._clock()
            if delay > 0:
                await asyncio.sleep(delay)
            heapq.heappop(heap)
            state = states[index]
            if scheduled:
                self._lateness.append(max(0.0, self._clock() - due))
            ok = await self._poll(state)
            if _cancel_swallowed():
                # Python 3.11's wait_for (inside pymodbus) loses a cancel that arrives as the
                # answer does: the stop request must not be lost, or the poller never ends
                raise asyncio.CancelledError
            device = state.device
            now = self._clock()
            if ok:
                nxt = next_slot(max(due, now), interval_s=device.interval_s, phase_s=device.phase_s)
                heapq.heappush(heap, (nxt, index, True))
            else:
                heapq.heappush(heap, (state.breaker.retry_at, index, False))

    async def _poll(self, state: _DeviceState) -> bool:
        """Reads every block of one device; submits what was read; True if all blocks were."""
        device = state.device
        bus = self._buses[device.bus]
        readings: list[Reading] = []
        error: ModbusError | None = None
        for block in state.blocks:
            started = self._clock()
            try:
                words = await bus.read(
                    unit=device.unit,
                    function=block.function,
                    address=block.address,
                    count=block.count,
                    timeout_s=device.timeout_s,
                )
            except GatewayUnreachable as exc:
                error = exc
                break
            except DeviceTimeout as exc:
                state.requests += 1
                error = exc
                break  # the other blocks would time out too: free the bus
            except ModbusError as exc:
                state.requests += 1
                error = exc
                continue  # an exception for one block: the others may still answer
            state.requests += 1
            ts = datetime.fromtimestamp((started + self._clock()) / 2, UTC)
            for reg in block.registers:
                try:
                    value = reg.decode(words, reg.address - block.address) * reg.factor
                    readings.append(Reading(device.meter, reg.channel, ts, value, reg.kind, SOURCE))
                except (ValueError, PayloadError) as exc:
                    state.decode_errors += 1
                    state.last_error = f"register {reg.name!r} ({reg.type} at {reg.address}): {exc}"
                    if reg.name not in state.reported_decode:
                        state.reported_decode.add(reg.name)
                        log.warning("modbus meter %s: %s", device.meter, state.last_error)
        if readings:
            self._readings += len(readings)
            await self._sink.submit(readings)
        now = self._clock()
        if error is None:
            self._record_success(state, now)
            return True
        self._record_failure(state, error, now)
        return False

    def _record_success(self, state: _DeviceState, now: float) -> None:
        offline_for = now - state.since.timestamp()
        was_open = state.breaker.record_success()
        state.last_success = datetime.fromtimestamp(now, UTC)
        if state.state != "online":
            if was_open:
                log.info(
                    "modbus meter %s online again after %.0f s offline",
                    state.device.meter,
                    offline_for,
                )
            state.state = "online"
            state.since = state.last_success

    def _record_failure(self, state: _DeviceState, error: ModbusError, now: float) -> None:
        self._failed_polls += 1
        state.last_error = str(error)
        if state.breaker.record_failure(now):
            state.state = "offline"
            state.since = datetime.fromtimestamp(now, UTC)
            # A dead gateway is logged once by its bus, not once per meter behind it.
            level = logging.DEBUG if isinstance(error, GatewayUnreachable) else logging.WARNING
            log.log(
                level,
                "modbus meter %s offline after %d failures: %s",
                state.device.meter,
                state.breaker.failures,
                error,
            )
