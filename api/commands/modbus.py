"""``uchet modbus ...`` (poll a device list, list profiles) and ``uchet simulate modbus``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from adapters.modbus.devices import load_devices
from adapters.modbus.poller import Poller
from adapters.modbus.profile import PROFILES_DIR, builtin_profiles, resolve_profile
from core.errors import ConfigError
from core.reading import Reading

log = logging.getLogger(__name__)


class _PrintSink:
    """Prints each reading as one JSON line."""

    async def submit(self, readings: Sequence[Reading]) -> None:
        for r in readings:
            line = {
                "meter": r.meter,
                "channel": r.channel,
                "ts": r.ts.isoformat(),
                "value": r.value,
                "source": r.source,
            }
            print(json.dumps(line), flush=False)
        sys.stdout.flush()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    modbus = sub.add_parser("modbus", help="устройства Modbus TCP: опрос по списку, профили")
    msub = modbus.add_subparsers(dest="modbus_command", metavar="ACTION", required=True)

    poll = msub.add_parser("poll", help="опрашивать устройства из списка, выводя показания в JSON")
    poll.add_argument("--devices", type=Path, required=True, help="файл JSON со списком устройств")
    poll.add_argument(
        "--once", action="store_true", help="опросить каждое устройство один раз и выйти"
    )
    poll.add_argument(
        "--health", action="store_true", help="в конце вывести состояние устройств (JSON) в stderr"
    )
    poll.set_defaults(func=_poll)

    profiles = msub.add_parser("profiles", help="список встроенных профилей устройств")
    profiles.set_defaults(func=_profiles)


def register_simulate(sim_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = sim_sub.add_parser(
        "modbus", help="серверы pymodbus с моделируемыми счётчиками по профилям"
    )
    sim.add_argument(
        "--profile",
        action="append",
        metavar="NAME[:N]",
        help="профиль (имя встроенного или путь к .json) и число счётчиков (по умолчанию 10);"
        " можно повторять",
    )
    sim.add_argument("--per-gateway", type=int, default=16, help="счётчиков на один TCP-порт")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--base-port", type=int, default=15020, help="первый TCP-порт")
    sim.add_argument("--speed", type=float, default=1.0, help="моделируемых секунд в секунду")
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--latency", type=float, default=0.0, help="секунд на ответ (RS-485)")
    sim.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="METER=FAULT",
        help="timeout | exception | wrong_word_order | disconnect; можно повторять",
    )
    sim.add_argument(
        "--interval", type=float, default=60.0, help="интервал опроса в списке устройств"
    )
    sim.add_argument("--timeout", type=float, default=1.0, help="таймаут в списке устройств")
    sim.add_argument(
        "--devices-out", type=Path, help="записать сюда подходящий список устройств (JSON)"
    )
    sim.set_defaults(func=_simulate)


def _poll(args: argparse.Namespace) -> int:
    devices = load_devices(args.devices)
    poller = Poller(devices, _PrintSink())

    async def main() -> None:
        if args.once:
            await poller.poll_once()
        else:
            await poller.run()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    health = poller.health()
    if args.health:
        print(json.dumps({m: h.as_dict() for m, h in health.items()}, indent=1), file=sys.stderr)
    offline = [m for m, h in health.items() if h.state != "online"]
    if offline:
        print(f"uchet modbus poll: {len(offline)} of {len(health)} devices did not answer",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


def _profiles(args: argparse.Namespace) -> int:
    for name in builtin_profiles():
        profile = resolve_profile(name)
        print(f"{name}\t{profile.model}\t{len(profile.registers)} registers")
    return 0


def _profile_specs(values: Sequence[str] | None) -> list[tuple[str, dict[str, Any], int]]:
    out = []
    for spec in values or ["eastron_sdm630:10", "eastron_sdm120:10"]:
        ref, _, count = spec.partition(":")
        try:
            n = int(count) if count else 10
        except ValueError:
            raise ConfigError(f"--profile {spec!r}: count must be an integer") from None
        profile = resolve_profile(ref)  # validates, and names the file on error
        path = Path(ref) if ref.endswith(".json") else PROFILES_DIR / f"{profile.name}.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        out.append((ref, data, n))
    return out


def _simulate(args: argparse.Namespace) -> int:
    from simulators.modbus import Fault, ModbusFleet

    specs = _profile_specs(args.profile)
    if args.per_gateway < 1:
        raise ConfigError("--per-gateway must be >= 1")

    async def main() -> None:
        fleets = []
        port = args.base_port
        for ref, data, n in specs:
            fleet = ModbusFleet.build(
                [(ref, data)],
                per_profile=n,
                per_gateway=args.per_gateway,
                host=args.host,
                ports=iter(range(port, 65536)),
                seed=args.seed,
                speed=args.speed,
                latency_s=args.latency,
            )
            port += len(fleet.gateways)
            fleets.append(fleet)
        meters = {m.meter: m for f in fleets for m in f.meters}
        for item in args.fault:
            meter, _, fault = item.partition("=")
            if meter not in meters:
                raise ConfigError(f"--fault {item!r}: no simulated meter {meter!r}")
            try:
                meters[meter].fault = Fault(fault)
            except ValueError:
                raise ConfigError(f"--fault {item!r}: unknown fault {fault!r}") from None
        if args.devices_out:
            devices: list[Any] = []
            for f in fleets:
                devices += f.device_list()["devices"]
            doc = {
                "defaults": {"interval_s": args.interval, "timeout_s": args.timeout},
                "devices": devices,
            }
            args.devices_out.write_text(json.dumps(doc, indent=1), encoding="utf-8")
        for f in fleets:
            await f.start()
        gateways = sum(len(f.gateways) for f in fleets)
        print(
            f"simulating {len(meters)} Modbus meters on {gateways} gateways "
            f"{args.host}:{args.base_port}..{port - 1} (speed x{args.speed:g}); Ctrl-C to stop",
            file=sys.stderr,
        )
        try:
            await asyncio.Event().wait()
        finally:
            for f in fleets:
                await f.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
    return 0
