"""Modbus poller benchmark: 1,000 simulated meters at a 60-second interval.

Prints (1) requests/s of the poller against a plain sequential pymodbus client loop, both
measured here against the same simulator, and (2) poll lateness p50/p99/max and CPU use of
the poller over a scheduled run. The simulator runs in a child process so its CPU is not
counted as the poller's.

    .venv/bin/python bench/bench_modbus.py [--devices 1000] [--per-gateway 20] [--duration 130]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pymodbus.client import ModbusTcpClient

from adapters.modbus.devices import devices_from_dict
from adapters.modbus.poller import Poller
from adapters.modbus.profile import PROFILES_DIR


class CountingSink:
    def __init__(self) -> None:
        self.readings = 0

    async def submit(self, readings: object) -> None:
        self.readings += len(readings)  # type: ignore[arg-type]


def _serve(n: int, per_gateway: int, latency: float, ready: mp.Queue, stop: mp.Event) -> None:  # type: ignore[type-arg]
    from simulators.modbus import ModbusFleet
    from tests.modbus.helpers import ports

    profiles = [
        (name, json.loads((PROFILES_DIR / f"{name}.json").read_text()))
        for name in ("eastron_sdm120", "eastron_sdm630", "schneider_iem3155")
    ]
    per_profile = [n // 3 + (1 if i < n % 3 else 0) for i in range(3)]

    async def main() -> None:
        free = ports()
        fleets = [
            ModbusFleet.build([p], per_profile=k, per_gateway=per_gateway,
                              ports=free, speed=60.0,
                              latency_s=latency)
            for p, k in zip(profiles, per_profile, strict=True) if k
        ]  # fmt: skip
        devices = []
        for f in fleets:
            await f.start()
            devices += f.device_list()["devices"]
        ready.put(devices)
        await asyncio.to_thread(stop.wait)
        for f in fleets:
            await f.stop()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        ready.put(usage.ru_utime + usage.ru_stime)

    asyncio.run(main())


def sequential_baseline(devices: list, seconds: float) -> tuple[int, float]:
    """One sync pymodbus client per gateway, one device after another, block by block."""
    parsed = devices_from_dict({"devices": devices})
    from adapters.modbus.planner import plan_blocks

    clients: dict[tuple[str, int], ModbusTcpClient] = {}
    requests = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for d in parsed:
            client = clients.get(d.bus)
            if client is None:
                client = clients[d.bus] = ModbusTcpClient(d.host, port=d.port, timeout=2)
                client.connect()
            for block in plan_blocks(d.profile.registers, max_gap=d.max_gap):
                read = (client.read_holding_registers if block.function == 3
                        else client.read_input_registers)  # fmt: skip
                rr = read(block.address, count=block.count, device_id=d.unit)
                assert not rr.isError()
                requests += 1
            if time.perf_counter() - start >= seconds:
                break
    elapsed = time.perf_counter() - start
    for c in clients.values():
        c.close()
    return requests, elapsed


async def poller_throughput(devices: list, rounds: int) -> tuple[int, float, int]:
    sink = CountingSink()
    total_requests = 0
    start = time.perf_counter()
    for _ in range(rounds):
        poller = Poller(devices_from_dict({"devices": devices}), sink)
        await poller.poll_once()
        total_requests += poller.stats().requests
    return total_requests, time.perf_counter() - start, sink.readings


async def scheduled_run(devices: list, duration: float, interval: float):
    sink = CountingSink()
    poller = Poller(
        devices_from_dict({"defaults": {"interval_s": interval, "timeout_s": 1.0},
                           "devices": devices}), sink)  # fmt: skip
    cpu0, wall0 = time.process_time(), time.perf_counter()
    task = asyncio.create_task(poller.run())
    await asyncio.sleep(duration)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    health = poller.health().values()
    return poller.stats(), sink.readings, cpu, wall, sum(h.state == "online" for h in health)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--per-gateway", type=int, default=20)
    ap.add_argument("--interval", type=float, default=60.0)
    ap.add_argument("--duration", type=float, default=130.0, help="scheduled run, seconds")
    ap.add_argument("--throughput-seconds", type=float, default=5.0)
    ap.add_argument(
        "--latency", type=float, default=0.0, help="simulated answer time per request (RS-485)"
    )
    args = ap.parse_args()

    ctx = mp.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    child = ctx.Process(
        target=_serve, args=(args.devices, args.per_gateway, args.latency, ready, stop)
    )
    child.start()
    devices = ready.get(timeout=120)
    gateways = len({(d["host"], d["port"]) for d in devices})
    print(f"machine: {os.cpu_count()} cores; {len(devices)} simulated devices on {gateways} "
          f"gateways (simulator in a child process, answer latency "
          f"{args.latency * 1000:g} ms)")  # fmt: skip

    base_req, base_s = sequential_baseline(devices, args.throughput_seconds)
    base_rate = base_req / base_s
    print(f"sequential pymodbus loop : {base_req} requests in {base_s:.2f} s = "
          f"{base_rate:,.0f} req/s")  # fmt: skip
    rounds = max(1, round(base_req / (2 * len(devices))))  # about the baseline's requests
    req, secs, readings = asyncio.run(poller_throughput(devices, rounds))
    rate = req / secs
    print(f"poller (all gateways)    : {req} requests in {secs:.2f} s = {rate:,.0f} req/s, "
          f"{readings / secs:,.0f} readings/s; ratio x{rate / base_rate:.2f}")  # fmt: skip

    stats, readings, cpu, wall, online = asyncio.run(
        scheduled_run(devices, args.duration, args.interval)
    )
    print(f"scheduled run            : {len(devices)} devices every {args.interval:g} s for "
          f"{wall:.0f} s: {stats.lateness_samples} polls, {readings} readings, "
          f"{online} online")  # fmt: skip
    print(f"poll lateness            : p50 {stats.lateness_p50_s * 1000:.1f} ms, p99 "
          f"{stats.lateness_p99_s * 1000:.1f} ms, max {stats.lateness_max_s * 1000:.1f} ms "
          f"(target p99 < 1000 ms)")  # fmt: skip
    print(f"poller CPU               : {cpu:.2f} s over {wall:.0f} s = {100 * cpu / wall:.1f} % "
          "of one core")  # fmt: skip
    stop.set()
    sim_cpu = ready.get(timeout=60)
    child.join(30)
    print(f"simulator CPU (child)    : {sim_cpu:.1f} s in total (all phases)")
    return 0 if stats.lateness_p99_s < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
