"""``uchet simulate city``: a simulated town replayed through every path, VEE and billing, with
a report of what the faults did to the bills (docs/city-replay.md)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from core.errors import ConfigError

if TYPE_CHECKING:  # the store, brokers and simulators are imported when run: `--help` is fast
    from core.config import Settings
    from simulators.city.town import CitySpec

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """No top-level commands; see register_simulate."""


def register_simulate(sim: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sim.add_parser(
        "city", help="прогнать моделируемый город через uchet и показать ошибку начислений"
    )
    add_city_arguments(p, houses=100, days=90, premises=100, out="$UCHET_HOME/city-<seed>")
    p.set_defaults(func=cmd_city)


def add_city_arguments(
    p: argparse.ArgumentParser, *, houses: int, days: int, premises: int, out: str
) -> None:
    p.add_argument("--houses", type=int, default=houses, help=f"домов (по умолчанию {houses})")
    p.add_argument(
        "--days", type=int, default=days,
        help=f"дней, округляется до целых месяцев (по умолчанию {days})",
    )  # fmt: skip
    p.add_argument(
        "--seed", type=int, default=1, help="seed города и неисправностей (по умолчанию 1)"
    )
    p.add_argument(
        "--premises-per-house", type=int, default=premises,
        help=f"помещений в доме в среднем (по умолчанию {premises})",
    )  # fmt: skip
    p.add_argument(
        "--start",
        help="первый месяц, YYYY-MM (по умолчанию: последние целые месяцы до текущего)",
    )
    p.add_argument("--out", type=Path, help=f"папка отчёта (по умолчанию: {out})")
    p.add_argument(
        "--in-place", action="store_true",
        help="работать в самой настроенной базе (она должна быть пустой), а не в новой рядом",
    )  # fmt: skip


def months_of(days: int) -> int:
    if days < 1:
        raise ConfigError(f"--days {days}: need at least 1")
    return max(1, round(days / 30.44))


def default_start(months: int, today: date) -> date:
    """The first of ``months`` whole months that ended before ``today``'s month."""
    m = today.year * 12 + today.month - 1 - months
    return date(m // 12, m % 12 + 1, 1)


def parse_start(text: str) -> date:
    try:
        year, month = (int(x) for x in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise ConfigError(f"--start {text!r}: expected YYYY-MM") from None


def spec_from(args: argparse.Namespace, s: Settings) -> CitySpec:
    from simulators.city.town import CitySpec

    if args.houses < 1:
        raise ConfigError(f"--houses {args.houses}: need at least 1")
    if args.premises_per_house < 2:
        raise ConfigError(f"--premises-per-house {args.premises_per_house}: need at least 2")
    months = months_of(args.days)
    start = (
        parse_start(args.start) if args.start else default_start(months, datetime.now(UTC).date())
    )
    return CitySpec(
        houses=args.houses,
        months=months,
        seed=args.seed,
        start=start,
        premises_per_house=args.premises_per_house,
        timezone=s.timezone,
    )


async def fresh_database(server_url: str, name: str) -> str:
    """Creates database ``name`` on the server of ``server_url``; returns its DSN."""
    from adapters.store.connections import create_database

    await create_database(server_url, name)
    parts = urlsplit(server_url)
    return urlunsplit(parts._replace(path="/" + name))


@dataclass
class CityRun:
    report: dict[str, Any]
    out: Path
    look: str  # the command that shows the store the replay wrote
    seconds: float
    timings: dict[str, float]


async def run_city_command(
    spec: CitySpec,
    s: Settings,
    *,
    out: Path,
    in_place: bool,
    say: Callable[[str], None],
) -> CityRun:
    from adapters.embedded import embedded_broker, embedded_postgres, free_port
    from api.city.quiet import puback_timeouts
    from api.city.replay import run_city
    from api.city.report import write
    from api.runtime import database_url

    started = time.perf_counter()
    look = "UCHET_DATABASE_URL='{url}' uchet stats --json"
    if in_place:
        url = database_url(s)
        say(f"  хранилище: {_where(url)}")
    elif s.database_url:
        name = f"uchet_city_{spec.seed}_{datetime.now(UTC):%Y%m%d%H%M%S}"
        url = await fresh_database(s.database_url, name)
        say(f"  хранилище: новая база {name} на {_where(url)}")
    else:
        # The embedded server of a replay is its own, under UCHET_HOME/city, new every run:
        # the user's embedded store is left alone and the result stays there to look at.
        home = s.home / "city"
        await asyncio.to_thread(shutil.rmtree, home / "pgdata", ignore_errors=True)
        url = await asyncio.to_thread(embedded_postgres, home)
        look = f"UCHET_HOME={home} uchet stats --json"
        say(f"  хранилище: встроенный PostgreSQL в {home} (новый)")
    async with contextlib.AsyncExitStack() as stack:
        if s.mqtt_url:
            mqtt_url, protocol = s.mqtt_url, s.mqtt_protocol
            say(f"  брокер: {mqtt_url}")
        else:
            mqtt_url = await stack.enter_async_context(embedded_broker(free_port()))
            protocol = "3.1.1"  # amqtt speaks MQTT 3.1.1
            say(f"  брокер: встроенный amqtt на {mqtt_url}")
        with puback_timeouts() as timeouts:
            replay = await run_city(
                spec, url, out, mqtt_url=mqtt_url, mqtt_protocol=protocol, say=say
            )
    if timeouts.count:
        say(
            f"  брокер MQTT: {timeouts.count} раз не дождался подтверждения (PUBACK) за 5 с —"
            " шлюз был занят записью; трассировки amqtt скрыты, сверка по путям ниже"
        )
    t0 = time.perf_counter()
    report = await asyncio.to_thread(write, replay, out)
    replay.timings["report: attribution + files"] = time.perf_counter() - t0
    (out / "timings.json").write_text(
        "{\n" + ",\n".join(f' "{k}": {v:.3f}' for k, v in sorted(replay.timings.items())) + "\n}\n",
        encoding="utf-8",
    )
    return CityRun(report, out, look.format(url=url), time.perf_counter() - started, replay.timings)


def _where(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname or parts.query}{parts.path}"


def say(text: str) -> None:
    print(text, flush=True)


def summary_lines(run: CityRun) -> list[str]:
    from api.city.report_text import CAUSE_NAMES, PATH_NAMES, billing_verdict
    from simulators.city.attribution import CAUSES

    r = run.report
    lines = ["  показания по путям (доставлено = записано + дубликаты + карантин):"]
    for name, p in r["paths"].items():
        q = sum(p["quarantined"].values()) + sum(p["rejected"].values())
        lines.append(
            f"    {name}: доставлено {p['delivered']} = записано {p['stored']} + дубликаты"
            f" {p['duplicates']} + карантин {q}"
            f"{' + конфликты ' + str(p['conflicts']) if p['conflicts'] else ''}"
            f" ({'сходится' if p['reconciles'] else 'НЕ СХОДИТСЯ'};"
            f" потеряно до доставки {p['lost_before_delivery']}; {PATH_NAMES.get(name, name)})"
        )
    e = r["billing"]["errors"]
    lines.append(f"  начисления: {billing_verdict(e)}".replace("**", ""))
    t = e["total"]
    lines.append("    по причинам, ₽: " + ", ".join(f"{CAUSE_NAMES[k]} {t[k]}" for k in CAUSES))
    top = sorted(run.timings.items(), key=lambda kv: -kv[1])[:5]
    lines.append("  время: " + ", ".join(f"{k} {v:.1f} с" for k, v in top))
    return lines


def cmd_city(args: argparse.Namespace) -> int:
    from api.runtime import settings

    for noisy in ("amqtt", "transitions", "adapters.modbus.poller"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    s = settings()
    spec = spec_from(args, s)
    out = args.out or s.home / f"city-{spec.seed}"
    say(
        f"uchet simulate city: домов {spec.houses} по ~{spec.premises_per_house} помещений,"
        f" месяцев {spec.months} с {spec.start:%Y-%m}, seed {spec.seed}"
    )
    run = asyncio.run(run_city_command(spec, s, out=out, in_place=args.in_place, say=say))
    for line in summary_lines(run):
        say(line)
    say(
        f"готово за {run.seconds:.1f} с. Отчёт: {out / 'report.html'} (и report.md,"
        f" report.json, billing_errors.csv, timings.json)."
    )
    say(f"  хранилище: {run.look}")
    return 0 if run.report["reconciles"] else 1
