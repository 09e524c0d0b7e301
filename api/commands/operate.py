"""Operator commands: ``uchet meters list|bind`` and ``uchet quarantine list|replay``."""

from __future__ import annotations

import argparse
import asyncio
import json
from dataclasses import asdict
from datetime import date

import asyncpg

from adapters.store import ReadingStore
from adapters.store.db import store_errors
from adapters.store.meters import bind_meter, list_meters, parse_key
from api.runtime import database_url, settings
from ingest.replay import replay


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    meters = sub.add_parser("meters", help="the meter registry: list, bind")
    msub = meters.add_subparsers(dest="meters_cmd", metavar="ACTION", required=True)
    p = msub.add_parser("list", help="list registered meters")
    p.add_argument("--unbound", action="store_true", help="only meters bound to nothing")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=1000)
    p.set_defaults(func=cmd_meters_list)
    p = msub.add_parser("bind", help="bind a meter to a premise or house, replay its quarantine")
    p.add_argument("meter", help="source:external_id[:channel], e.g. mqtt:apt1-cw:cold_water")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--premise")
    target.add_argument("--house", help="a house meter (ОДПУ)")
    p.add_argument("--capacity-digits", type=int)
    p.add_argument("--installed", type=date.fromisoformat, help="YYYY-MM-DD")
    p.add_argument("--no-replay", action="store_true", help="do not replay its quarantine")
    p.set_defaults(func=cmd_meters_bind)

    q = sub.add_parser("quarantine", help="quarantined readings: list, replay")
    qsub = q.add_subparsers(dest="quarantine_cmd", metavar="ACTION", required=True)
    p = qsub.add_parser("list", help="quarantined readings not yet replayed")
    p.add_argument("--reason")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_quarantine_list)
    p = qsub.add_parser("replay", help="replay quarantined readings")
    p.add_argument("--meter", action="append", default=[], help="source:external_id[:channel]")
    p.add_argument("--id", action="append", type=int, default=[], help="quarantine id")
    p.set_defaults(func=cmd_quarantine_replay)


async def _with_store(coro_factory):  # type: ignore[no-untyped-def]
    store = await ReadingStore.open(database_url(settings()))
    try:
        return await coro_factory(store)
    finally:
        await store.close()


def cmd_meters_list(args: argparse.Namespace) -> int:
    async def run(store: ReadingStore) -> list:  # type: ignore[type-arg]
        async with store.pool.acquire() as conn:
            return await list_meters(conn, unbound=args.unbound, limit=args.limit)

    rows = asyncio.run(_with_store(run))
    for r in rows:
        if args.json:
            print(json.dumps(asdict(r), ensure_ascii=False))
        else:
            owner = (
                f"premise {r.premise_id}"
                if r.premise_id
                else (f"house {r.house_id}" if r.house_id else "UNBOUND")
            )
            print(
                f"{r.id:>6} {r.source}:{r.external_id}:{r.channel}  {owner}  {r.readings} readings"
            )
    return 0


def cmd_meters_bind(args: argparse.Namespace) -> int:
    async def run(store: ReadingStore) -> tuple[list[int], dict[str, object] | None]:
        async with store.pool.acquire() as conn:
            ids = await bind_meter(
                conn,
                args.meter,
                premise_id=args.premise,
                house_id=args.house,
                capacity_digits=args.capacity_digits,
                installed=args.installed,
            )
        report = None if args.no_replay else (await replay(store, meter_ids=ids)).as_dict()
        return ids, report

    ids, report = asyncio.run(_with_store(run))
    print(
        f"bound {len(ids)} register(s) of {args.meter} to "
        f"{'premise ' + args.premise if args.premise else 'house ' + args.house}"
    )
    if report is not None:
        print(f"replayed quarantine: {json.dumps(report, ensure_ascii=False)}")
    return 0


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    async def run(store: ReadingStore) -> list[asyncpg.Record]:
        async with store_errors("list quarantine"), store.pool.acquire() as conn:
            return await conn.fetch(
                "SELECT id, received_at, source, reason, detail, meter, channel, payload"
                " FROM quarantine WHERE replayed_at IS NULL AND ($1::text IS NULL OR reason = $1)"
                " ORDER BY id DESC LIMIT $2",
                args.reason,
                args.limit,
            )

    for r in asyncio.run(_with_store(run)):
        doc = dict(r)
        doc["received_at"] = r["received_at"].isoformat()
        doc["payload"] = r["payload"].decode("utf-8", "replace")
        if args.json:
            print(json.dumps(doc, ensure_ascii=False))
        else:
            print(
                f"{r['id']:>8} {r['reason']:<18} {r['source']}:{r['meter']}:{r['channel']}"
                f"  {r['detail']}"
            )
    return 0


def cmd_quarantine_replay(args: argparse.Namespace) -> int:
    async def run(store: ReadingStore) -> dict[str, object]:
        meter_ids: list[int] = []
        async with store.pool.acquire() as conn:
            for key in args.meter:
                source, external_id, channel = parse_key(key)
                meter_ids += [
                    r["id"]
                    for r in await conn.fetch(
                        "SELECT id FROM meters WHERE source = $1 AND external_id = $2"
                        " AND ($3::text IS NULL OR channel = $3)",
                        source, external_id, channel,
                    )
                ]  # fmt: skip
        return (await replay(store, meter_ids=meter_ids, quarantine_ids=args.id)).as_dict()

    print(json.dumps(asyncio.run(_with_store(run)), ensure_ascii=False))
    return 0
