"""MQTT ingest speed: raw subscriber, raw COPY, and uchet end to end, measured in one run.

    python bench/bench_mqtt_ingest.py [--messages 100000] [--overload-seconds 300]

Needs the mosquitto binary and the PostgreSQL at UCHET_TEST_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/test); starts a private broker, creates and drops a
database. The publisher (simulators.fastpub) runs in its own process so it is not the
bottleneck. Figures:
  1. aiomqtt no-op subscriber, QoS 1, `async for client.messages` (the baseline);
  2. asyncpg binary COPY into the partitioned readings table (batches of 10k);
  3. uchet end to end, single-reading messages (target >= 60 % of 1.);
  4. uchet end to end, array payloads of 100 readings (target >= 150k readings/s);
  5. publish -> commit latency at a paced half-capacity load (target p99 < 2 s);
  6. gateway memory while offered 10x its capacity (target: flat).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiomqtt
import asyncpg

from api.runtime import migrate_url
from core.config import Settings
from ingest.gateway import Gateway, run_gateway
from simulators.fastpub import publish_fast
from tests.services import Mosquitto, create_database, drop_database

START = datetime(2026, 1, 1, tzinfo=UTC)


def _messages(n: int, per_message: int, meters: int, offset: int = 0):
    for j in range(0, n, per_message):
        docs = []
        for i in range(j, min(n, j + per_message)):
            k = i + offset
            m = k % meters
            ts = (START + timedelta(minutes=k // meters)).isoformat()
            docs.append(
                {
                    "meter": f"b{m}",
                    "channel": "cold_water",
                    "ts": ts,
                    "value": k * 0.001,
                    "unit": "m3",
                }
            )
        if per_message == 1:
            yield f"meters/{docs[0]['meter']}/readings", json.dumps(docs[0]).encode()
        else:
            yield "meters/readings", json.dumps(docs).encode()


def _overload_messages(per_message: int, meters: int, seconds: float):
    """Array messages for `seconds`, cheap enough to offer 10x the gateway's capacity.

    One encoded template per group of meters; each round of the fleet fills in the next
    second and a rising value by two byte replacements, so every key is new.
    """
    templates = [
        json.dumps(
            [
                {"meter": f"b{m}", "channel": "cold_water", "ts": "@TS@", "value": 0, "unit": "m3"}
                for m in range(j, min(meters, j + per_message))
            ]
        )
        .replace('"value": 0', '"value": @V@')
        .encode()
        for j in range(0, meters, per_message)
    ]
    deadline = time.monotonic() + seconds
    for round_ in itertools.count():
        ts = (START + timedelta(seconds=round_)).isoformat().encode()
        value = b"%.3f" % (round_ * 0.001)
        if time.monotonic() >= deadline:
            return
        for template in templates:
            yield "meters/readings", template.replace(b"@TS@", ts).replace(b"@V@", value)


def _publisher(
    port: int,
    n: int,
    per_message: int,
    meters: int,
    rate: float | None,
    timeline: str | None,
    offset: int = 0,
    seconds: float | None = None,
    ready: Any = None,
    go: Any = None,
) -> None:
    marks: list[tuple[int, float]] = []

    def progress(sent: int) -> None:
        if timeline and sent % 1024 == 0:
            marks.append((sent * per_message, time.time()))

    sent = 0

    async def main() -> None:
        nonlocal sent
        if seconds:  # overload: paced, generated on the fly (too many to hold)
            msgs = _overload_messages(per_message, meters, seconds)
        else:
            msgs = _messages(n, per_message, meters, offset)
            # Encoded before the clock starts: encoding while publishing costs the publisher
            # more CPU than the gateway spends, on the cores the gateway and database share.
            msgs = iter(list(msgs))
            if ready is not None:
                ready.set()
                go.wait()
        sent = await publish_fast(
            "127.0.0.1",
            port,
            msgs,
            qos=1,
            rate=rate,
            progress=progress,
            client_id=f"bench-pub-{os.getpid()}",
            window=2000,
        )

    asyncio.run(main())
    if timeline:
        Path(timeline).write_text(json.dumps({"marks": marks, "sent": sent}))


def start_publisher(*args, **kw) -> mp.Process:
    proc = mp.get_context("spawn").Process(target=_publisher, args=args, kwargs=kw)
    proc.start()
    return proc


async def start_encoded_publisher(*args, **kw) -> mp.Process:
    """Starts a publisher and returns once its payloads are encoded and it is publishing."""
    ctx = mp.get_context("spawn")
    ready, go = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_publisher, args=args, kwargs={**kw, "ready": ready, "go": go})
    proc.start()
    await asyncio.get_running_loop().run_in_executor(None, ready.wait)
    go.set()
    return proc


async def raw_subscriber(broker: Mosquitto, n: int) -> float:
    async with aiomqtt.Client("127.0.0.1", broker.port, identifier="bench-raw") as client:
        await client.subscribe("meters/+/readings", qos=1)
        pub = await start_encoded_publisher(broker.port, n, 1, 1000, None, None)
        got = 0
        t0 = None
        async for _ in client.messages:
            if t0 is None:
                t0 = time.perf_counter()
            got += 1
            if got == n:
                break
        elapsed = time.perf_counter() - t0
        pub.join()
    return n / elapsed


async def raw_copy(url: str, n: int) -> float:
    await migrate_url(url)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS readings_y2026m01 PARTITION OF readings"
            " FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')"
        )
        rows = [
            (i % 1000, START + timedelta(minutes=i // 1000), i * 0.001, 0, 0, None)
            for i in range(n)
        ]
        t0 = time.perf_counter()
        for j in range(0, n, 10_000):
            await conn.copy_records_to_table(
                "readings",
                records=rows[j : j + 10_000],
                columns=("meter_id", "ts", "value", "kind", "flags", "end_ts"),
            )
        elapsed = time.perf_counter() - t0
        await conn.execute("TRUNCATE readings")
    finally:
        await conn.close()
    return n / elapsed


async def end_to_end(
    broker: Mosquitto,
    n: int,
    per_message: int,
    *,
    rate: float | None = None,
    client_id: str = "bench-gw",
) -> dict[str, float]:
    url = await create_database()
    try:
        await migrate_url(url)
        settings = Settings(mqtt_url=broker.url, mqtt_client_id=client_id)
        stop, ready = asyncio.Event(), asyncio.Event()
        gateway = Gateway(settings, url)
        gw = asyncio.create_task(gateway.run(stop, ready=ready))
        await ready.wait()
        assert gateway.pipeline is not None
        metrics = gateway.pipeline.metrics
        timeline = tempfile.mktemp(suffix=".json")
        commits: list[tuple[int, float]] = []
        pub = await start_encoded_publisher(broker.port, n, per_message, 1000, rate, timeline)
        t0 = time.perf_counter()
        while True:  # committed counts from the gateway itself: no load on the database
            count = metrics.stored + metrics.duplicates
            commits.append((count, time.time()))
            if count >= n:
                break
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - t0
        await asyncio.get_running_loop().run_in_executor(None, pub.join)
        stop.set()
        await gw
        marks = json.loads(Path(timeline).read_text())["marks"]
        os.unlink(timeline)
    finally:
        await drop_database(url)
    latencies = []
    for sent, t_pub in marks:
        t_commit = next((t for c, t in commits if c >= sent), None)
        if t_commit is not None:
            latencies.append(max(0.0, t_commit - t_pub))
    latencies.sort()
    p = lambda q: (
        latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")
    )
    return {"rate": n / elapsed, "p50": p(0.5), "p99": p(0.99)}


async def overload_memory(
    tmp: Path, seconds: float, capacity: float
) -> tuple[list[tuple[float, int]], float]:
    """Offers 10x capacity (arrays of 100) for `seconds`; samples the gateway's RSS.

    A broker of its own: no persistence, and a queue bounded in bytes (the backlog of 10x
    for minutes would not fit in memory; Mosquitto drops past the bound, as configured).
    Returns the RSS samples and the rate the publisher actually offered.
    """
    broker = Mosquitto(tmp / "overload", extra="persistence false\nmax_queued_bytes 2000000000\n")
    broker.start()
    url = await create_database()
    samples: list[tuple[float, int]] = []
    timeline = tempfile.mktemp(suffix=".json")
    try:
        await migrate_url(url)
        settings = Settings(mqtt_url=broker.url, mqtt_client_id="bench-overload")
        stop, ready = asyncio.Event(), asyncio.Event()
        gw = asyncio.create_task(run_gateway(settings, url, stop, ready=ready))
        await ready.wait()
        offered = 10 * capacity
        pub = start_publisher(broker.port, 0, 100, 5000, offered / 100, timeline, seconds=seconds)
        t0 = time.monotonic()
        while pub.is_alive():
            rss = int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0])
            samples.append((time.monotonic() - t0, rss))
            await asyncio.sleep(max(1.0, seconds / 30))
        stop.set()
        await gw
        sent = json.loads(Path(timeline).read_text())["sent"]
        os.unlink(timeline)
    finally:
        await drop_database(url)
        broker.stop()
    return samples, sent * 100 / seconds


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--overload-seconds", type=float, default=300)
    args = ap.parse_args()
    n = args.messages
    with tempfile.TemporaryDirectory() as tmp:
        broker = Mosquitto(Path(tmp))
        broker.start()
        try:
            raw = await raw_subscriber(broker, n)
            print(f"1. aiomqtt no-op subscriber, QoS 1:        {raw:10,.0f} msg/s (baseline)")
            url = await create_database()
            try:
                copy = await raw_copy(url, n)
            finally:
                await drop_database(url)
            print(f"2. asyncpg COPY, partitioned readings:     {copy:10,.0f} rows/s")
            single = await end_to_end(broker, n, 1, client_id="bench-single")
            print(
                f"3. uchet end to end, 1 reading/message:    {single['rate']:10,.0f} readings/s"
                f"  = {single['rate'] / raw:.0%} of 1. (target >= 60 %)"
            )
            arrays = await end_to_end(broker, n * 5, 100, client_id="bench-arrays")
            print(
                f"4. uchet end to end, 100 readings/message: {arrays['rate']:10,.0f} readings/s"
                "  (target >= 150,000)"
            )
            paced = await end_to_end(
                broker, n // 2, 1, rate=single["rate"] / 2, client_id="bench-paced"
            )
            print(
                f"5. latency publish->commit at {single['rate'] / 2:,.0f} msg/s:"
                f" p50 {paced['p50'] * 1000:.0f} ms, p99 {paced['p99'] * 1000:.0f} ms"
                f" (target p99 < 2000 ms)"
            )
            samples, offered = await overload_memory(
                Path(tmp), args.overload_seconds, arrays["rate"]
            )
            rss = [s[1] for s in samples]
            third = max(1, len(rss) // 3)
            print(
                f"6. offered {offered / arrays['rate']:.1f}x 4. ({offered:,.0f} readings/s) for"
                f" {args.overload_seconds:.0f} s: gateway RSS first third max"
                f" {max(rss[:third]) / 1024:.0f} MiB, last third max"
                f" {max(rss[-third:]) / 1024:.0f} MiB, peak {max(rss) / 1024:.0f} MiB"
            )
        finally:
            broker.stop()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(f"bench process CPU: user {ru.ru_utime:.1f} s, sys {ru.ru_stime:.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
