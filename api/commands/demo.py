"""``uchet demo``: the whole system on embedded defaults, printing what happened.

Embedded PostgreSQL (pgserver) and MQTT broker (amqtt) unless UCHET_DATABASE_URL /
UCHET_MQTT_URL point at real servers; a simulated fleet with faults goes through the gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from adapters.embedded import embedded_broker, free_port
from adapters.mqtt import BrokerAddress
from adapters.store import ReadingStore
from api.runtime import database_url, migrate_url, settings
from core.config import Settings
from ingest.gateway import run_gateway
from simulators.fastpub import publish_fast
from simulators.mqtt_fleet import FAULTS, FleetSpec, build_fleet


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="run the whole system on embedded defaults")
    p.add_argument("--meters", type=int, default=200, help="simulated MQTT meters")
    p.add_argument("--intervals", type=int, default=24, help="hourly readings per meter")
    p.add_argument("--seed", type=int, help="fleet seed (default: a new one per run)")
    p.set_defaults(func=cmd_demo)


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or parts.query}{parts.path}"


def say(text: str) -> None:
    print(text, flush=True)


async def _stats(url: str) -> dict[str, object]:
    store = await ReadingStore.open(url)
    try:
        return await store.stats()
    finally:
        await store.close()


def _accounted(stats: dict[str, object]) -> int:
    quarantined = stats["quarantined"]
    assert isinstance(quarantined, dict)
    return int(stats["readings"]) + int(stats["duplicates"]) + sum(quarantined.values())  # type: ignore[call-overload]


async def demo(s: Settings, args: argparse.Namespace) -> int:
    started = time.perf_counter()
    say("uchet demo: store, broker, simulated fleet, gateway")
    url = database_url(s)
    report = await migrate_url(url)
    say(f"  store: PostgreSQL {_where(url)} ({report.physical})")
    seed = args.seed if args.seed is not None else int(time.time()) % 100_000
    async with contextlib.AsyncExitStack() as stack:
        if s.mqtt_url:
            mqtt_url, protocol = s.mqtt_url, s.mqtt_protocol
            say(f"  broker: {mqtt_url}")
        else:
            mqtt_url = await stack.enter_async_context(embedded_broker(free_port()))
            protocol = "3.1.1"  # amqtt speaks MQTT 3.1.1
            say(f"  broker: embedded amqtt at {mqtt_url}")
        gw = s.model_copy(
            update={
                "mqtt_url": mqtt_url,
                "mqtt_protocol": protocol,
                "mqtt_client_id": "uchet-demo",
                "batch_delay_s": 0.1,
            }
        )
        before = _accounted(await _stats(url))
        stop, ready = asyncio.Event(), asyncio.Event()
        gateway = asyncio.create_task(run_gateway(gw, url, stop, ready=ready))
        await asyncio.wait_for(ready.wait(), 30)
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
        fleet = build_fleet(
            FleetSpec(
                meters=args.meters,
                intervals=args.intervals,
                seed=seed,
                faults=dict.fromkeys(FAULTS, 0.01),
                end=end,
            )
        )
        expected = fleet.outcomes()
        total = sum(expected.values())
        say(
            f"  fleet: {args.meters} meters x {args.intervals} hourly readings, seed {seed},"
            f" 1% of each fault ({', '.join(FAULTS)})"
        )
        address = BrokerAddress.parse(mqtt_url)
        t0 = time.perf_counter()
        await publish_fast(
            address.host, address.port, ((m.topic, m.payload) for m in fleet.messages)
        )
        deadline = time.monotonic() + 120
        while _accounted(await _stats(url)) - before < total and time.monotonic() < deadline:  # noqa: ASYNC110 -- polls the database
            await asyncio.sleep(0.25)
        ingest_s = time.perf_counter() - t0
        stop.set()
        summary = await gateway
    stats = await _stats(url)
    say(
        f"  gateway: {summary.received} readings in {ingest_s:.1f} s: stored {summary.stored},"
        f" duplicates {summary.duplicates}, quarantined {summary.quarantined}"
    )
    say(
        "  expected from ground truth: "
        + ", ".join(f"{k} {v}" for k, v in sorted(expected.items()))
    )
    say(f"  store totals: {stats}")
    say(
        f"done in {time.perf_counter() - started:.1f} s. Look further with: uchet stats --json"
        f" (UCHET_HOME={s.home})"
    )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    for noisy in ("amqtt", "transitions"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    return asyncio.run(demo(settings(), args))
