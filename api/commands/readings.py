"""``uchet readings exclude|include|exclusions``: an operator takes a reading out of billing
(kept, flagged EXCLUDED, who and why recorded), puts it back, or lists the record."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:  # the store is imported by the handlers: `--help` stays fast
    from adapters.store.connections import Connection
    from adapters.store.exclusions import Outcome


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    r = sub.add_parser("readings", help="исключить показание из расчёта или вернуть его")
    rsub = r.add_subparsers(dest="readings_cmd", metavar="ACTION", required=True)
    for action, text in (
        ("exclude", "исключить показание из расчёта (оно остаётся, с флагом EXCLUDED)"),
        ("include", "отменить исключение"),
    ):
        p = rsub.add_parser(action, help=text)
        p.add_argument("--meter", required=True, help="SOURCE:ID[:CHANNEL], например mqtt:apt1:cw")
        p.add_argument("--ts", required=True, type=_aware, help="время показания, ISO 8601")
        p.add_argument("--reason", required=True, help="причина (записывается в журнал исключений)")
        p.add_argument("--by", help="кто (записывается); по умолчанию: cli:<пользователь ОС>")
        p.add_argument("--json", action="store_true")
        p.set_defaults(func=cmd_set, excluded=action == "exclude")
    p = rsub.add_parser("exclusions", help="журнал исключений, новые сверху")
    p.add_argument("--meter", help="SOURCE:ID[:CHANNEL]")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true", help="по объекту JSON на строку")
    p.set_defaults(func=cmd_list)


def _aware(text: str) -> datetime:
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time") from None
    if ts.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone, e.g. {text}+03:00")
    return ts


def local_zone() -> ZoneInfo:
    """The zone a person reads times in (settings.timezone)."""
    from api.runtime import settings

    return ZoneInfo(settings().timezone)


def local_text(ts: datetime, tz: ZoneInfo) -> str:
    """A time as a person reads it: local, with its offset, so that it can be given back to
    ``--ts``: ``2026-03-22 09:15:00+03:00``."""
    return ts.astimezone(tz).isoformat(sep=" ")


def _connection() -> AbstractAsyncContextManager[Connection]:
    from adapters.store.connections import single
    from api.runtime import database_url, settings

    return single(database_url(settings()))


def cmd_set(args: argparse.Namespace) -> int:
    from adapters.store.exclusions import find_meter, set_excluded

    actor = args.by or f"cli:{getpass.getuser()}"

    async def run() -> Outcome:
        async with _connection() as conn:
            meter = await find_meter(conn, args.meter)
            return await set_excluded(
                conn, meter, args.ts, excluded=args.excluded, reason=args.reason, actor=actor
            )

    out = asyncio.run(run())
    tz = local_zone()
    state = "исключено из расчёта" if out.excluded else "возвращено в расчёт"
    if args.json:
        print(json.dumps({
            "meter": out.meter.name, "ts": out.ts.isoformat(), "value": out.value,
            "excluded": out.excluded, "changed": out.changed,
        }))  # fmt: skip
    elif out.changed:
        print(f"{state}: {out.meter.name} на {local_text(out.ts, tz)} (значение {out.value:g}),"
              f" кто: {actor}, причина: {args.reason.strip()}")  # fmt: skip
    else:
        print(f"уже {state}: {out.meter.name} на {local_text(out.ts, tz)}; ничего не записано")
    return 0


#: the record's actions as the text listing names them
_ACTIONS = {"exclude": "исключение", "include": "возврат"}


def cmd_list(args: argparse.Namespace) -> int:
    from adapters.store.exclusions import find_meter, list_exclusions

    async def run():  # type: ignore[no-untyped-def]
        async with _connection() as conn:
            meter_id = (await find_meter(conn, args.meter)).id if args.meter else None
            return await list_exclusions(conn, meter_id=meter_id, limit=args.limit)

    rows = asyncio.run(run())
    tz = local_zone()
    for e in rows:
        if args.json:
            print(json.dumps({
                "id": e.id, "meter": e.meter, "ts": e.ts.isoformat(), "value": e.value,
                "action": e.action, "reason": e.reason, "by": e.actor, "at": e.at.isoformat(),
            }, ensure_ascii=False))  # fmt: skip
        else:
            print(f"{local_text(e.at, tz)[:16]} {_ACTIONS.get(e.action, e.action)} {e.meter}"
                  f" {local_text(e.ts, tz)} значение {e.value:g}, кто: {e.actor},"
                  f" причина: {e.reason}")  # fmt: skip
    return 0
