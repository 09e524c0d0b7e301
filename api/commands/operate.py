"""Operator commands: ``uchet meters list|bind`` and ``uchet quarantine list|replay``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING, TypeVar

from core.errors import UchetError

if TYPE_CHECKING:  # the store and ingest are imported by the handlers: `--help` stays fast
    from adapters.store import ReadingStore
    from adapters.store.meters import MeterRow
    from adapters.store.quarantine import Held

PAGE = 1000
T = TypeVar("T")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    meters = sub.add_parser("meters", help="реестр счётчиков: список, привязка")
    msub = meters.add_subparsers(dest="meters_cmd", metavar="ACTION", required=True)
    p = msub.add_parser(
        "list", help="список зарегистрированных счётчиков (все, если не задан --limit)"
    )
    p.add_argument(
        "--unbound", action="store_true", help="только не привязанные ни к помещению, ни к дому"
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, help="не больше стольких (если есть ещё, будет сказано)")
    p.add_argument("--offset", type=int, default=0, help="пропустить столько первых")
    p.set_defaults(func=cmd_meters_list)
    p = msub.add_parser(
        "bind", help="привязать счётчик к помещению или дому, повторно обработать его карантин"
    )
    p.add_argument("meter", help="source:external_id[:channel], например mqtt:apt1-cw:cold_water")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--premise")
    target.add_argument("--house", help="домовой счётчик (ОДПУ)")
    p.add_argument("--capacity-digits", type=int)
    p.add_argument("--installed", type=date.fromisoformat, help="дата установки, YYYY-MM-DD")
    p.add_argument("--no-replay", action="store_true", help="не обрабатывать его карантин повторно")
    p.add_argument(
        "--create",
        action="store_true",
        help="зарегистрировать счётчик (имя с каналом), если от него ещё ничего не приходило",
    )
    p.set_defaults(func=cmd_meters_bind)

    q = sub.add_parser("quarantine", help="показания в карантине: список, повторная обработка")
    qsub = q.add_subparsers(dest="quarantine_cmd", metavar="ACTION", required=True)
    p = qsub.add_parser("list", help="показания в карантине, ещё не обработанные повторно")
    p.add_argument("--reason")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true", help="по объекту JSON на строку")
    p.set_defaults(func=cmd_quarantine_list)
    p = qsub.add_parser(
        "replay", help="повторно обработать показания из карантина (какие: --meter, --id)"
    )
    p.add_argument("--meter", action="append", default=[], help="source:external_id[:channel]")
    p.add_argument("--id", action="append", type=int, default=[], help="id записи в карантине")
    p.set_defaults(func=cmd_quarantine_replay)


async def _with_store(coro_factory: Callable[[ReadingStore], Awaitable[T]]) -> T:
    from adapters.store import ReadingStore
    from api.runtime import database_url, settings

    store = await ReadingStore.open(database_url(settings()))
    try:
        return await coro_factory(store)
    finally:
        await store.close()


def _print_meter(r: MeterRow, as_json: bool) -> None:
    if as_json:
        print(json.dumps(asdict(r), ensure_ascii=False))
        return
    owner = (
        f"помещение {r.premise_id}"
        if r.premise_id
        else (f"дом {r.house_id}" if r.house_id else "НЕ ПРИВЯЗАН")
    )
    print(f"{r.id:>6} {r.key}  {owner}  показаний: {r.readings}")


def cmd_meters_list(args: argparse.Namespace) -> int:
    """Every meter, page by page; with ``--limit`` a note on stderr says when more exist."""
    if (args.limit is not None and args.limit < 1) or args.offset < 0:
        raise UchetError("--limit must be at least 1 and --offset not negative")
    from adapters.store.connections import pooled
    from adapters.store.meters import list_meters

    async def run(store: ReadingStore) -> tuple[int, bool]:
        shown, offset, more = 0, args.offset, False
        async with pooled(store.pool, "list meters") as conn:
            while True:
                want = PAGE if args.limit is None else min(PAGE, args.limit - shown)
                page = await list_meters(
                    conn,
                    unbound=True if args.unbound else None,
                    limit=want + 1,
                    offset=offset,
                    count_readings=True,
                )
                for r in page[:want]:
                    _print_meter(r, args.json)
                shown += min(len(page), want)
                offset += want
                if len(page) <= want:
                    return shown, False
                if args.limit is not None and shown >= args.limit:
                    more = True
                    return shown, more

    shown, more = asyncio.run(_with_store(run))
    if more:
        print(
            f"показано счётчиков: {shown} (с позиции {args.offset}); есть ещё:"
            f" --offset {args.offset + shown} для следующих или без --limit для всех",
            file=sys.stderr,
        )
    return 0


def cmd_meters_bind(args: argparse.Namespace) -> int:
    from adapters.store.connections import pooled
    from adapters.store.meters import bind_meter
    from api.runtime import settings
    from ingest.replay import replay

    async def run(store: ReadingStore) -> tuple[list[int], dict[str, object] | None]:
        async with pooled(store.pool, "bind meter") as conn:
            ids = await bind_meter(
                conn,
                args.meter,
                premise_id=args.premise,
                house_id=args.house,
                capacity_digits=args.capacity_digits,
                installed=args.installed,
                create=args.create,
            )
        report = (
            None if args.no_replay else (await replay(store, settings(), meter_ids=ids)).as_dict()
        )
        return ids, report

    ids, report = asyncio.run(_with_store(run))
    print(
        f"{args.meter}: привязано регистров: {len(ids)}, к "
        f"{'помещению ' + args.premise if args.premise else 'дому ' + args.house}"
    )
    if report is not None:
        print(f"карантин повторён: {json.dumps(report, ensure_ascii=False)}")
    return 0


def cmd_quarantine_list(args: argparse.Namespace) -> int:
    from adapters.store.connections import pooled
    from adapters.store.quarantine import list_quarantine

    async def run(store: ReadingStore) -> list[Held]:
        async with pooled(store.pool, "list quarantine") as conn:
            return await list_quarantine(conn, reason=args.reason, limit=args.limit)

    for r in asyncio.run(_with_store(run)):
        if args.json:
            doc = asdict(r)
            doc["received_at"] = r.received_at.isoformat()
            doc["payload"] = r.payload.decode("utf-8", "replace")
            print(json.dumps(doc, ensure_ascii=False))
        else:
            print(f"{r.id:>8} {r.reason:<18} {r.source}:{r.meter}:{r.channel}  {r.detail}")
    return 0


def cmd_quarantine_replay(args: argparse.Namespace) -> int:
    """Replays the rows named; a selector that names nothing is an error, not a silent no-op."""
    if not args.meter and not args.id:
        raise UchetError("name what to replay: --meter source:external_id[:channel] or --id N")
    from adapters.store.connections import pooled
    from adapters.store.meters import UnknownMeter, close_names, meter_ids
    from adapters.store.quarantine import unknown_ids
    from api.progress import bar
    from api.runtime import settings
    from ingest.replay import replay

    async def run(store: ReadingStore) -> dict[str, object]:
        ids: list[int] = []
        async with pooled(store.pool, "replay quarantine") as conn:
            for key in args.meter:
                found = await meter_ids(conn, key)
                if not found:
                    close = await close_names(conn, key)
                    hint = f"; did you mean {', '.join(close)}?" if close else ""
                    raise UnknownMeter(
                        f"no such meter {key!r} in the registry (bind it first){hint}"
                    )
                ids += found
            missing = await unknown_ids(conn, args.id)
        if missing:
            raise UchetError(
                "no quarantined reading waiting with id "
                + ", ".join(str(i) for i in missing)
                + " (uchet quarantine list)"
            )
        with bar("повтор карантина", unit="стр") as b:
            done = await replay(
                store, settings(), meter_ids=ids, quarantine_ids=args.id, on_progress=b.to
            )
        return done.as_dict()

    print(json.dumps(asyncio.run(_with_store(run)), ensure_ascii=False))
    return 0
