"""``uchet simulate mqtt``: a simulated smart-meter fleet publishing to a broker."""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import timedelta
from pathlib import Path

from core.errors import ConfigError
from simulators.mqtt_fleet import FAULTS


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """No top-level commands; see register_simulate."""


def register_simulate(sim: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sim.add_parser(
        "mqtt", help="публиковать в брокер MQTT показания моделируемых умных счётчиков"
    )
    p.add_argument("--url", help="URL брокера (по умолчанию: UCHET_MQTT_URL)")
    p.add_argument("--meters", type=int, default=100)
    p.add_argument("--intervals", type=int, default=24, help="показаний на счётчик")
    p.add_argument("--interval-minutes", type=int, default=60)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--array-size", type=int, default=1, help="показаний в сообщении")
    p.add_argument(
        "--faults",
        default="",
        help=f"через запятую fault=вероятность, неисправности: {', '.join(FAULTS)}",
    )
    p.add_argument("--qos", type=int, choices=(0, 1), default=1)
    p.add_argument("--truth", type=Path, help="записать сюда истинные значения (JSON построчно)")
    p.set_defaults(func=cmd_simulate_mqtt)


def parse_faults(text: str) -> dict[str, float]:
    faults: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, prob = part.partition("=")
        if name not in FAULTS:
            raise ConfigError(f"--faults: unknown fault {name!r}; known: {', '.join(FAULTS)}")
        try:
            faults[name] = float(prob or "0.01")
        except ValueError as exc:
            raise ConfigError(f"--faults: {part!r}: probability is not a number") from exc
    return faults


def cmd_simulate_mqtt(args: argparse.Namespace) -> int:
    from adapters.mqtt import BrokerAddress
    from api.progress import bar
    from api.runtime import settings
    from simulators.fastpub import publish_fast
    from simulators.mqtt_fleet import FleetSpec, build_fleet

    url = args.url or settings().mqtt_url
    if not url:
        raise ConfigError("no broker: pass --url or set UCHET_MQTT_URL")
    address = BrokerAddress.parse(url)
    fleet = build_fleet(
        FleetSpec(
            meters=args.meters,
            intervals=args.intervals,
            interval=timedelta(minutes=args.interval_minutes),
            seed=args.seed,
            faults=parse_faults(args.faults),
            array_size=args.array_size,
        )
    )
    if args.truth:
        fleet.write_truth(args.truth)
    started = time.perf_counter()
    with bar("публикация MQTT", total=len(fleet.messages), unit="сообщ") as b:
        sent = asyncio.run(
            publish_fast(
                address.host,
                address.port,
                ((m.topic, m.payload) for m in fleet.messages),
                qos=args.qos,
                client_id=f"uchet-sim-{args.seed}",
                progress=b.to,
            )
        )
        b.to(sent)
    seconds = time.perf_counter() - started
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(fleet.outcomes().items()))
    print(f"published {sent} messages in {seconds:.2f} s ({sent / seconds:.0f}/s)")
    print(f"expected outcomes: {outcomes}")
    return 0
