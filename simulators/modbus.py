"""Simulated Modbus TCP meters: pymodbus servers presenting fleets of devices from profiles.

Each :class:`SimGateway` is one TCP endpoint (an RS-485 gateway) answering for several unit
ids; each :class:`SimMeter` presents a profile's registers with counters advancing in
simulated time. Faults on demand: per meter ``timeout`` (no answer), ``exception`` (a Modbus
exception response), ``wrong_word_order`` (wide values sent word-swapped), ``disconnect``
(the gateway drops its TCP connections when the meter is asked); per gateway ``stop()`` /
``start()`` (an outage) and ``drop_connections()``.

The register encoding here is written independently of ``adapters.modbus.codec`` so the
tests compare two implementations, not one with itself.
"""

from __future__ import annotations

import asyncio
import random
import struct
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.datastore import ModbusServerContext
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusTcpServer

# type -> (struct code for one big-endian value, registers, integer?)
_LAYOUT: dict[str, tuple[str, int, bool]] = {
    "u16": ("H", 1, True),
    "i16": ("h", 1, True),
    "u32": ("I", 2, True),
    "i32": ("i", 2, True),
    "u64": ("Q", 4, True),
    "i64": ("q", 4, True),
    "f32": ("f", 2, False),
    "f64": ("d", 4, False),
}
_LIMIT = {"u16": 2**16, "i16": 2**15, "u32": 2**32, "i32": 2**31, "u64": 2**64, "i64": 2**63}


class Fault(StrEnum):
    NONE = "none"
    TIMEOUT = "timeout"
    EXCEPTION = "exception"
    WRONG_WORD_ORDER = "wrong_word_order"
    DISCONNECT = "disconnect"


@dataclass(frozen=True, slots=True)
class SimRegister:
    name: str
    address: int
    function: int
    type: str
    byte_order: str
    word_order: str
    scale: float
    unit: str


def sim_registers(profile: dict[str, Any]) -> list[SimRegister]:
    """The registers of a profile JSON object (the same file the adapter reads)."""
    out = []
    for raw in profile["registers"]:
        out.append(
            SimRegister(
                name=raw["name"],
                address=int(raw["address"]),
                function=int(raw.get("function", profile.get("function", 3))),
                type=raw["type"],
                byte_order=raw.get("byte_order", profile.get("byte_order", "big")),
                word_order=raw.get("word_order", profile.get("word_order", "big")),
                scale=float(raw.get("scale", 1)),
                unit=raw["unit"],
            )
        )
    return out


def encode(value: float, reg: SimRegister, *, swap_words: bool = False) -> list[int]:
    """The register words a device with this layout sends for ``value`` (in the register's unit).

    ``swap_words`` sends the words in the opposite order to the profile (the fault).
    """
    code, count, integer = _LAYOUT[reg.type]
    raw: float | int = value / reg.scale
    if integer:
        raw = round(raw)
    data = struct.pack(">" + code, raw)
    # Build in the device's byte layout: words as 2-byte groups, little word order reverses
    # the groups, little byte order swaps inside each group.
    groups = [data[i : i + 2] for i in range(0, len(data), 2)]
    little_words = (reg.word_order == "little") != swap_words
    if little_words:
        groups.reverse()
    if reg.byte_order == "little":
        groups = [g[::-1] for g in groups]
    assert len(groups) == count
    return [int.from_bytes(g, "big") for g in groups]


def quantize(value: float, reg: SimRegister) -> float:
    """The value a reader decodes, in the register's unit (integers lose the fraction)."""
    code, _, integer = _LAYOUT[reg.type]
    raw = value / reg.scale
    if integer:
        return round(raw) * reg.scale
    decoded: float = struct.unpack(">" + code, struct.pack(">" + code, raw))[0]
    return decoded * reg.scale


class SimClock:
    """Simulated time: ``speed`` simulated seconds pass per real second."""

    def __init__(self, *, speed: float = 1.0) -> None:
        self.speed = speed
        self._t0 = time.time()

    def hours(self, at: float | None = None) -> float:
        """Simulated hours since the clock started, at wall time ``at`` (default now)."""
        return ((time.time() if at is None else at) - self._t0) * self.speed / 3600.0


@dataclass(slots=True)
class SimMeter:
    """One simulated meter: a unit id on a gateway with counters per register."""

    meter: str
    unit: int
    profile_ref: str
    registers: list[SimRegister]
    start: dict[str, float]
    rate_per_h: dict[str, float]
    fault: Fault = Fault.NONE
    exception_code: int = int(ExcCodes.DEVICE_FAILURE)
    requests: int = 0

    def value(self, name: str, hours: float) -> float:
        """The counter in the register's unit after ``hours`` simulated hours."""
        return self.start[name] + self.rate_per_h[name] * hours

    def set_value(self, name: str, value: float, *, rate_per_h: float = 0.0) -> None:
        self.start[name] = value
        self.rate_per_h[name] = rate_per_h

    def words(self, function: int, address: int, count: int, hours: float) -> list[int]:
        out = [0] * count
        swap = self.fault is Fault.WRONG_WORD_ORDER
        for reg in self.registers:
            width = _LAYOUT[reg.type][1]
            if reg.function != function or reg.address >= address + count:
                continue
            if reg.address + width <= address:
                continue
            for i, word in enumerate(encode(self.value(reg.name, hours), reg, swap_words=swap)):
                pos = reg.address + i - address
                if 0 <= pos < count:
                    out[pos] = word
        return out


class _Context(ModbusServerContext):
    """Answers reads from the gateway's meters; pymodbus treats it as a custom datastore."""

    def __init__(self, gateway: SimGateway) -> None:  # no super(): it only logs a deprecation
        self.simdevices = []
        self.old_simulator = True  # tells pymodbus to call async_getValues on us
        self._gateway = gateway

    async def async_getValues(
        self, device_id: int, func_code: int, address: int, count: int = 1
    ) -> list[int] | list[bool] | ExcCodes:
        return await self._gateway.answer(device_id, func_code, address, count)

    async def async_setValues(
        self, device_id: int, func_code: int, address: int, values: Any
    ) -> ExcCodes | None:
        return ExcCodes.ILLEGAL_FUNCTION

    def device_ids(self) -> list[int]:
        return list(self._gateway.meters)


@dataclass(slots=True)
class SimGateway:
    """A Modbus TCP endpoint answering for ``meters`` (by unit id)."""

    host: str
    port: int
    meters: dict[int, SimMeter]
    clock: SimClock
    latency_s: float = 0.0
    requests: int = 0
    requests_by_function: Counter[int] = field(default_factory=Counter)
    _server: ModbusTcpServer | None = None

    async def answer(
        self, unit: int, function: int, address: int, count: int
    ) -> list[int] | ExcCodes:
        self.requests += 1
        self.requests_by_function[function] += 1
        meter = self.meters.get(unit)
        if meter is None:
            return ExcCodes.GATEWAY_NO_RESPONSE  # what an RS-485 gateway says for a silent unit
        meter.requests += 1
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if meter.fault is Fault.TIMEOUT:
            raise NoSuchIdException("simulated timeout")  # server configured to stay silent
        if meter.fault is Fault.DISCONNECT:
            self.drop_connections()
            raise NoSuchIdException("simulated disconnect")
        if meter.fault is Fault.EXCEPTION:
            return ExcCodes(meter.exception_code)
        if function not in (3, 4):
            return ExcCodes.ILLEGAL_FUNCTION
        return meter.words(function, address, count, self.clock.hours())

    async def start(self) -> None:
        """Starts listening (again, after :meth:`stop`)."""
        if self._server is not None:
            return
        server = ModbusTcpServer(
            _Context(self), address=(self.host, self.port), ignore_missing_devices=True
        )
        await server.serve_forever(background=True)
        self._server = server

    async def stop(self) -> None:
        """Stops listening and drops every connection: the gateway is gone."""
        if self._server is not None:
            await self._server.shutdown()  # type: ignore[no-untyped-call]
            self._server = None

    def drop_connections(self) -> None:
        """Closes the client connections; the gateway keeps listening."""
        if self._server is not None:
            for conn in list(self._server.active_connections.values()):
                conn.close()

    @property
    def running(self) -> bool:
        return self._server is not None


def _fits(value: float, reg: SimRegister) -> float:
    """Keeps a generated start value within half the type's range (room to count up)."""
    if reg.type in _LIMIT:
        return min(value, (_LIMIT[reg.type] // 2 - 1) * reg.scale * 0.5)
    return value


class ModbusFleet:
    """Gateways with meters from profiles; ``async with`` starts and stops every server."""

    def __init__(self, gateways: list[SimGateway], clock: SimClock) -> None:
        self.gateways = gateways
        self.clock = clock
        self._meters = {m.meter: (g, m) for g in gateways for m in g.meters.values()}

    @classmethod
    def build(
        cls,
        profiles: Sequence[tuple[str, dict[str, Any]]],
        *,
        per_profile: int,
        per_gateway: int = 16,
        host: str = "127.0.0.1",
        ports: Iterable[int],
        seed: int = 1,
        speed: float = 1.0,
        latency_s: float = 0.0,
    ) -> ModbusFleet:
        """``per_profile`` meters of each (profile ref, profile JSON), ``per_gateway`` per port.

        Meter ids are ``<profile ref stem>-<n>``; unit ids count from 1 on each gateway.
        """
        rng = random.Random(seed)
        clock = SimClock(speed=speed)
        port_iter = iter(ports)
        gateways: list[SimGateway] = []
        current: SimGateway | None = None
        for ref, data in profiles:
            regs = sim_registers(data)
            stem = ref.rsplit("/", 1)[-1].removesuffix(".json")
            for n in range(1, per_profile + 1):
                if current is None or len(current.meters) >= per_gateway:
                    current = SimGateway(host, next(port_iter), {}, clock, latency_s=latency_s)
                    gateways.append(current)
                unit = len(current.meters) + 1
                start, rate = {}, {}
                for reg in regs:
                    small = reg.unit.lower() in ("wh", "varh")
                    start[reg.name] = _fits(
                        rng.uniform(1e5, 1e7) if small else rng.uniform(100, 10_000), reg
                    )
                    rate[reg.name] = rng.uniform(100, 2000) if small else rng.uniform(0.1, 2.0)
                current.meters[unit] = SimMeter(
                    meter=f"{stem}-{n:05d}",
                    unit=unit,
                    profile_ref=ref,
                    registers=regs,
                    start=start,
                    rate_per_h=rate,
                )
        return cls(gateways, clock)

    def meter(self, meter_id: str) -> SimMeter:
        return self._meters[meter_id][1]

    def gateway_of(self, meter_id: str) -> SimGateway:
        return self._meters[meter_id][0]

    @property
    def meters(self) -> list[SimMeter]:
        return [m for _, m in self._meters.values()]

    @property
    def requests(self) -> int:
        return sum(g.requests for g in self.gateways)

    def device_list(self, **defaults: Any) -> dict[str, Any]:
        """The poller's device list (JSON object) for this fleet; ``defaults`` as in the file."""
        devices = [
            {
                "meter": m.meter,
                "host": g.host,
                "port": g.port,
                "unit": m.unit,
                "profile": m.profile_ref,
            }
            for g in self.gateways
            for m in g.meters.values()
        ]
        return {"defaults": defaults, "devices": devices}

    async def start(self) -> None:
        await asyncio.gather(*(g.start() for g in self.gateways))

    async def stop(self) -> None:
        await asyncio.gather(*(g.stop() for g in self.gateways))

    async def __aenter__(self) -> ModbusFleet:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
