"""``uchet demo``: a small city replayed through the whole system, printing what happened.

Embedded PostgreSQL (pgserver) and MQTT broker (amqtt) unless UCHET_DATABASE_URL /
UCHET_MQTT_URL point at real servers. A few houses over a few months go through every path
(MQTT, Modbus, ASKUE 80020 files, residents through the API), VEE and billing, into a new
database beside the configured one; the report says what the faults did to the bills.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

from api.commands.city import add_city_arguments, run_city_command, say, spec_from, summary_lines


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="прогнать небольшой моделируемый город через всю систему")
    add_city_arguments(p, houses=3, days=61, premises=40, out="$UCHET_HOME/demo")
    p.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from api.runtime import settings

    for noisy in ("amqtt", "transitions", "adapters.modbus.poller"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    s = settings()
    spec = spec_from(args, s)
    out = args.out or s.home / "demo"
    say(
        f"uchet demo: город, домов {spec.houses} (~{spec.premises_per_house} помещений в"
        f" каждом), месяцев {spec.months} с {spec.start:%Y-%m}, seed {spec.seed}: умные"
        " счётчики по MQTT, домовые по Modbus, файлы АСКУЭ 80020, жители через API; VEE;"
        " начисления"
    )
    run = asyncio.run(run_city_command(spec, s, out=out, in_place=args.in_place, say=say))
    for line in summary_lines(run):
        say(line)
    say(f"готово за {run.seconds:.1f} с. Отчёт: {out / 'report.html'} (и report.md, report.json,")
    say("  billing_errors.csv: каждое помещение, услуга и месяц с причиной ошибки)")
    say(f"  хранилище: {run.look}")
    return 0 if run.report["reconciles"] else 1
