"""The poller against the pymodbus simulator over real TCP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import pytest

from adapters.modbus.devices import devices_from_dict
from adapters.modbus.planner import next_slot, plan_blocks
from adapters.modbus.poller import ListSink, Poller
from adapters.modbus.profile import profile_from_dict, resolve_profile
from core.channels import conversion_factor
from core.reading import Kind
from simulators.modbus import Fault, ModbusFleet, quantize
from tests.modbus.helpers import builtin, fleet

TYPES = ["u16", "i16", "u32", "i32", "u64", "i64", "f32", "f64"]
ORDERS = [("big", "big"), ("big", "little"), ("little", "big"), ("little", "little")]
# a value per type that uses the sign and the high words (exact in a float)
VALUES = {
    "u16": 54321.0, "i16": -1234.5, "u32": 3_000_000_001.0, "i32": -2_000_000_001.0,
    "u64": float(2**52 + 2**40 + 7), "i64": -float(2**50 + 3), "f32": 12345.5,
    "f64": 98765.4321,
}  # fmt: skip
SCALES = {"i16": 0.5}


def every_layout_profile() -> dict[str, Any]:
    registers = []
    address = 0
    for t in TYPES:
        for byte_order, word_order in ORDERS:
            registers.append(
                {
                    "name": f"{t}_{byte_order}_{word_order}",
                    "address": address,
                    "type": t,
                    "byte_order": byte_order,
                    "word_order": word_order,
                    "scale": SCALES.get(t, 1),
                    "unit": "Wh",
                    "channel": f"1-0:1.8.{len(registers)}",
                }
            )
            address += 5  # a gap of 1..4 registers between values
    return {"model": "every layout", "source": "test", "function": 3, "registers": registers}


def poller_for(f: ModbusFleet, sink: ListSink, **defaults: Any) -> Poller:
    defaults = {"interval_s": 1.0, "timeout_s": 0.3, **defaults}
    return Poller(devices_from_dict(f.device_list(**defaults)), sink)


async def test_decoding_matches_the_profile_for_every_type_and_order(tmp_path: Any) -> None:
    import json

    data = every_layout_profile()
    path = tmp_path / "every.json"
    path.write_text(json.dumps(data))
    f = fleet([(str(path), data)], per_profile=2, per_gateway=2)
    meter = f.meters[0]
    for reg in meter.registers:
        meter.set_value(reg.name, VALUES[reg.type])
    other = f.meters[1]  # random counters, also checked
    async with f:
        sink = ListSink()
        await poller_for(f, sink).poll_once()
    got = {(r.meter, r.channel): r for r in sink.readings}
    profile = profile_from_dict(data, name="every")
    assert len(got) == 2 * len(profile.registers) == 64
    for spec in profile.registers:
        reading = got[(meter.meter, spec.channel)]
        assert reading.value == VALUES[spec.type] * 1e-3, spec.name  # Wh -> kWh, exact
        assert (reading.kind, reading.source) == (Kind.REGISTER, "modbus")
        truth = other.start[spec.name]
        assert got[(other.meter, spec.channel)].value == pytest.approx(
            quantize(truth, other.registers[0].__class__(**{**vars_of(other, spec.name)})) * 1e-3,
            rel=1e-6,
        )


def vars_of(meter: Any, name: str) -> dict[str, Any]:
    reg = next(r for r in meter.registers if r.name == name)
    return {k: getattr(reg, k) for k in reg.__slots__}


@pytest.mark.parametrize("name", ["eastron_sdm630", "eastron_sdm120", "schneider_iem3155"])
async def test_builtin_profiles_read_the_simulated_meter(name: str) -> None:
    f = fleet([builtin(name)], per_profile=1, per_gateway=1, speed=3600.0)
    meter = f.meters[0]
    async with f:
        sink = ListSink()
        before = time.time()
        await poller_for(f, sink).poll_once()
        after = time.time()
    profile = resolve_profile(name)
    assert len(sink.readings) == len(profile.registers)
    by_channel = {r.channel: r for r in sink.readings}
    for spec, sim in zip(profile.registers, meter.registers, strict=True):
        r = by_channel[spec.channel]
        assert before <= r.ts.timestamp() <= after  # stamped at the moment of reading
        # the counter advances 1 simulated hour per second: bracket by the read window
        lo = meter.value(sim.name, f.clock.hours(before)) * conversion_factor(
            spec.unit, spec.channel
        )
        hi = meter.value(sim.name, f.clock.hours(after)) * conversion_factor(
            spec.unit, spec.channel
        )
        assert lo * (1 - 1e-6) - 1e-3 <= r.value <= hi * (1 + 1e-6) + 1e-3, spec.name


async def test_block_reads_coalesce() -> None:
    f = fleet([builtin("eastron_sdm630"), builtin("schneider_iem3155")], per_profile=5,
              per_gateway=5)  # fmt: skip
    async with f:
        sink = ListSink()
        poller = poller_for(f, sink)
        await poller.poll_once()
    n_values = 5 * 5 + 5 * 8
    assert len(sink.readings) == n_values
    expected_requests = 5 * len(plan_blocks(resolve_profile("eastron_sdm630").registers)) + 5 * len(
        plan_blocks(resolve_profile("schneider_iem3155").registers)
    )
    assert expected_requests == 20  # 2 blocks per meter of either model
    assert f.requests == expected_requests  # counted by the servers
    assert poller.stats().requests == expected_requests
    # max_gap 0 merges only touching values: iEM3155 3203+8, 3219+8, 4195+16; still far
    # fewer than the 8 requests of one-request-per-value
    f2 = fleet([builtin("schneider_iem3155")], per_profile=1, per_gateway=1)
    async with f2:
        sink2 = ListSink()
        await poller_for(f2, sink2, max_gap=0).poll_once()
    assert len(sink2.readings) == 8
    assert f2.requests == 3


async def test_200_devices_are_polled_concurrently_across_gateways() -> None:
    # 10 gateways x 20 meters, each answer takes 20 ms (an RS-485 turnaround)
    f = fleet([builtin("eastron_sdm120")], per_profile=200, per_gateway=20, latency_s=0.02)
    assert len(f.gateways) == 10
    async with f:
        sink = ListSink()
        poller = poller_for(f, sink, interval_s=60.0, timeout_s=1.0)
        t0 = time.perf_counter()
        await poller.poll_once()
        elapsed = time.perf_counter() - t0
    assert len(sink.readings) == 200 * 5
    assert {r.meter for r in sink.readings} == {m.meter for m in f.meters}
    assert all(h.state == "online" for h in poller.health().values())
    # sequential would be 400 requests x 20 ms = 8 s; one bus is 40 x 20 ms = 0.8 s
    assert elapsed < 3.0, elapsed
    # one request at a time per gateway: no gateway ever had two in flight
    assert all(g.requests == 40 for g in f.gateways)


async def run_for(poller: Poller, seconds: float) -> None:
    task = asyncio.create_task(poller.run())
    await asyncio.sleep(seconds)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_dead_gateways_do_not_slow_healthy_ones() -> None:
    f = fleet([builtin("eastron_sdm120")], per_profile=40, per_gateway=10)
    silent, gone, *healthy = f.gateways
    for m in silent.meters.values():
        m.fault = Fault.TIMEOUT  # the gateway accepts TCP but no meter answers
    async with f:
        await gone.stop()  # connection refused
        sink = ListSink()
        poller = poller_for(f, sink, interval_s=1.0, timeout_s=0.5, backoff_base_s=0.5)
        await run_for(poller, 3.6)
    healthy_meters = {m.meter: m for g in healthy for m in g.meters.values()}
    devices = {d.meter: d for d in devices_from_dict(f.device_list(interval_s=1.0, timeout_s=0.5))}
    polls: dict[str, set[float]] = {}
    for r in sink.readings:
        assert r.meter in healthy_meters  # nothing invented for dead meters
        d = devices[r.meter]
        slot = next_slot(r.ts.timestamp() - 1.0, interval_s=1.0, phase_s=d.phase_s)
        lateness = r.ts.timestamp() - slot
        # A healthy meter that waited behind a dead one would be at least one timeout (0.5 s)
        # late; the margin below it absorbs a loaded CI machine.
        assert 0 <= lateness < 0.45, (r.meter, lateness)
        polls.setdefault(r.meter, set()).add(slot)
    # every healthy meter was read in every slot of the run (3 or 4 of them)
    assert set(polls) == set(healthy_meters)
    for meter, slots in polls.items():
        assert len(slots) >= 3, meter
    health = poller.health()
    # the silent bus can only spend one timeout at a time (0.5 s each): in 3.6 s it has
    # not tried all ten meters three times, but none of them is online
    silent_states = [health[m.meter] for m in silent.meters.values()]
    assert all(h.state != "online" for h in silent_states)
    assert sum(h.consecutive_failures for h in silent_states) >= 5
    assert all("no answer" in (h.last_error or "") for h in silent_states if h.requests)
    for m in gone.meters.values():
        assert health[m.meter].state == "offline"
        assert "refused" in (health[m.meter].last_error or "") or "unreachable" in (
            health[m.meter].last_error or ""
        )
    # the refused gateway was dialled a few times with backoff, not once per meter per poll
    assert poller._buses[(gone.host, gone.port)].connects < 10


async def test_recovery_after_an_outage(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="adapters.modbus")
    f = fleet([builtin("eastron_sdm120")], per_profile=6, per_gateway=3)
    down = f.gateways[0]
    async with f:
        sink = ListSink()
        poller = poller_for(
            f, sink, interval_s=0.5, timeout_s=0.2, backoff_base_s=0.2, backoff_max_s=0.8,
            failure_threshold=2,
        )  # fmt: skip
        task = asyncio.create_task(poller.run())
        await asyncio.sleep(1.2)
        assert all(h.state == "online" for h in poller.health().values())
        await down.stop()
        await asyncio.sleep(2.0)
        health = poller.health()
        for m in down.meters.values():
            assert health[m.meter].state == "offline", health[m.meter]
        for m in f.gateways[1].meters.values():
            assert health[m.meter].state == "online"
        outage_end = time.time()
        await down.start()
        await asyncio.sleep(2.0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    health = poller.health()
    for m in down.meters.values():
        h = health[m.meter]
        assert h.state == "online" and h.consecutive_failures == 0
        assert h.since.timestamp() >= outage_end
        assert any(r.meter == m.meter and r.ts.timestamp() > outage_end for r in sink.readings)
    messages = [r.getMessage() for r in caplog.records]
    gw = f"{down.host}:{down.port}"
    # transitions are logged once each, not at every attempt
    assert sum(f"gateway {gw} unreachable" in m for m in messages) == 1
    assert sum(f"gateway {gw} reachable again" in m for m in messages) == 1
    for m in down.meters.values():
        assert sum(f"meter {m.meter} online again" in msg for msg in messages) == 1
    assert sum("modbus poller stopped" in m for m in messages) == 1


async def test_faults_exception_wrong_word_order_and_disconnect(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="adapters.modbus")
    f = fleet([builtin("eastron_sdm120")], per_profile=4, per_gateway=4)
    bad, swapped, dropper, good = f.meters
    bad.fault = Fault.EXCEPTION
    swapped.fault = Fault.WRONG_WORD_ORDER
    dropper.fault = Fault.DISCONNECT
    for m in f.meters:
        for reg in m.registers:
            m.set_value(reg.name, 1234.5)
    async with f:
        sink = ListSink()
        poller = poller_for(f, sink, failure_threshold=1, timeout_s=0.3)
        await poller.poll_once()
        await poller.poll_once()
    health = poller.health()
    by_meter: dict[str, list[float]] = {}
    for r in sink.readings:
        by_meter.setdefault(r.meter, []).append(r.value)
    # exception response: no readings, offline, the error names the exception
    assert bad.meter not in by_meter
    assert health[bad.meter].state == "offline"
    assert "exception 0x04 (server device failure)" in (health[bad.meter].last_error or "")
    # word-swapped answers decode to different numbers: the adapter cannot tell, VEE must
    assert by_meter[swapped.meter] and all(v != 1234.5 for v in by_meter[swapped.meter])
    # a device that makes the gateway drop TCP: it fails, the others reconnect and answer
    assert dropper.meter not in by_meter
    assert by_meter[good.meter] == [1234.5] * 10
    assert health[good.meter].state == "online"
    offline_logs = [r for r in caplog.records if f"meter {bad.meter} offline" in r.getMessage()]
    assert len(offline_logs) == 1  # second failed poll logs nothing new
