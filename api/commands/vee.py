"""``uchet vee --period`` (batch VEE over the store) and ``uchet anomalies`` (list them)."""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from core.periods import parse_period

if TYPE_CHECKING:  # the store and ingest are imported by the handlers: `--help` stays fast
    from adapters.store import ReadingStore


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("vee", help="batch VEE of a period: anomalies, house balance, estimates")
    p.add_argument("--period", required=True, help="YYYY-MM")
    p.add_argument(
        "--stuck-days", type=int, help="days of zero consumption that make a stuck meter"
    )
    p.add_argument("--balance-threshold", type=float, help="house imbalance ratio (default 0.15)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_vee)
    p = sub.add_parser("anomalies", help="list stored anomalies")
    p.add_argument("--period", help="YYYY-MM")
    p.add_argument("--type", help="anomaly type code, e.g. house_imbalance")
    p.add_argument("--house")
    p.add_argument("--meter", help="meter external id")
    p.add_argument("--severity", choices=("info", "warning", "critical"))
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_anomalies)


async def _open() -> ReadingStore:
    from adapters.store import ReadingStore
    from api.runtime import database_url, settings

    return await ReadingStore.open(database_url(settings()), max_size=1)


def cmd_vee(args: argparse.Namespace) -> int:
    from api.runtime import settings
    from core.vee import VeeSettings
    from ingest.vee import run_vee

    parse_period(args.period)
    overrides = {
        k: v
        for k, v in (("stuck_days", args.stuck_days), ("balance_threshold", args.balance_threshold))
        if v is not None
    }

    async def run():  # type: ignore[no-untyped-def]
        store = await _open()
        try:
            return await run_vee(
                store, args.period, timezone=settings().timezone, settings=VeeSettings(**overrides)
            )
        finally:
            await store.close()

    report = asyncio.run(run())
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False))
        return 0
    found = ", ".join(f"{k} {v}" for k, v in sorted(report.anomalies.items())) or "none"
    print(
        f"VEE {report.period}: {report.meters} meters, {report.readings} readings"
        f" ({report.off_grid} off the hourly grid, not used)"
    )
    print(f"  anomalies: {found}")
    print(
        f"  house balance: {report.houses_balanced} house/service pairs with a house meter;"
        f" estimates stored: {report.estimates}"
    )
    print(
        f"  time: load {report.load_s:.2f} s, compute {report.compute_s:.2f} s,"
        f" write {report.write_s:.2f} s"
    )
    return 0


def cmd_anomalies(args: argparse.Namespace) -> int:
    if args.period:
        parse_period(args.period)
    from adapters.store.vee import list_anomalies

    async def run() -> list[dict[str, object]]:
        store = await _open()
        try:
            return await list_anomalies(
                store, period=args.period, type=args.type, house=args.house, meter=args.meter,
                severity=args.severity, limit=args.limit,
            )  # fmt: skip
        finally:
            await store.close()

    for a in asyncio.run(run()):
        if args.json:
            print(json.dumps(a, ensure_ascii=False))
        else:
            where = a["meter"] or f"house {a['house']}"
            print(
                f"{a['period']} {a['severity']:<8} {a['type']:<22} {a['service']:<12} {where}"
                f"  {a['start']} .. {a['end']}"
            )
    return 0
