"""``uchet claims``: the claims workflow of debtors (претензионно-исковая работа, issue #19):
``open``, ``advance``, ``close``, ``list``, ``show``, ``letter``, ``candidates``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from api.progress import bar
from core.ledger.claims import CLOSE_REASONS, STAGE_NAMES, STAGES
from core.ledger.dates import day_name, parse_day
from core.ledger.errors import LedgerError
from core.ledger.money import format_money, parse_typed_rubles

if TYPE_CHECKING:  # the store and the use cases are imported when a subcommand runs
    from adapters.store.claims import ClaimRecord

T = TypeVar("T")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``claims`` with its subcommands."""
    parser = sub.add_parser(
        "claims", help="претензии к должникам: уведомление, предупреждение, юристы, суд, исп. лист"
    )
    what = parser.add_subparsers(dest="claims_what", metavar="WHAT", required=True)
    p = what.add_parser(
        "open", help="открыть претензию (этап уведомления) по лицевому счёту с долгом"
    )
    p.add_argument("account", help="лицевой счёт")
    _dated(p)
    p.set_defaults(func=run_open)
    p = what.add_parser("advance", help="перевести претензию на более поздний этап")
    p.add_argument("claim", type=int)
    p.add_argument("stage", choices=STAGES)
    _dated(p)
    p.add_argument(
        "--document", help="реквизиты документа: номер судебного дела, исполнительного листа, …"
    )
    p.set_defaults(func=run_advance)
    p = what.add_parser("close", help="закрыть претензию: долг погашен или списан")
    p.add_argument("claim", type=int)
    p.add_argument("reason", choices=tuple(CLOSE_REASONS))
    _dated(p)
    p.set_defaults(func=run_close)
    p = what.add_parser("list", help="открытые (или закрытые) претензии по этапам")
    p.add_argument("--stage", choices=STAGES)
    p.add_argument("--house")
    p.add_argument("--closed", action="store_true", help="закрытые претензии вместо открытых")
    p.add_argument("--offset", type=int, default=0, help="пропустить столько (по умолчанию 0)")
    p.add_argument("--limit", type=int, default=1000, help="показать не больше стольких")
    p.set_defaults(func=run_list)
    p = what.add_parser("show", help="претензия и история её этапов")
    p.add_argument("claim", type=int)
    p.set_defaults(func=run_show)
    p = what.add_parser("letter", help="письмо текущего этапа претензии в PDF")
    p.add_argument("claim", type=int)
    p.add_argument("-o", "--out", type=Path, required=True, help="куда записать PDF")
    p.add_argument(
        "--payee",
        type=Path,
        help="реквизиты получателя, JSON (по умолчанию: $UCHET_HOME/payee.json)",
    )
    p.add_argument(
        "--fresh", action="store_true", help="сформировать заново (заменяет сохранённое)"
    )
    p.set_defaults(func=run_letter)
    p = what.add_parser(
        "candidates", help="должники, которым пора направить уведомление (без открытой претензии)"
    )
    p.add_argument(
        "--min-debt",
        default="1000.00",
        help="просроченный долг от стольких рублей (по умолчанию 1000.00)",
    )
    p.add_argument(
        "--min-days", type=int, default=60, help="просрочка от стольких дней (по умолчанию 60)"
    )
    p.add_argument("--house")
    p.add_argument("--date", help="YYYY-MM-DD (по умолчанию: сегодня)")
    p.set_defaults(func=run_candidates)


def _dated(p: argparse.ArgumentParser) -> None:
    p.add_argument("--date", help="YYYY-MM-DD (по умолчанию: сегодня)")
    p.add_argument("--note", default="", help="примечание к этапу")


def _today() -> int:
    from api.runtime import settings

    return datetime.now(ZoneInfo(settings().timezone)).date().toordinal()


def _day(args: argparse.Namespace) -> int:
    return _today() if args.date is None else parse_day(args.date, "--date")


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _run(work: Callable[[Any], Awaitable[T]]) -> T:
    from adapters.store.ledger import connect
    from api.runtime import database_url, settings

    async def go() -> T:
        conn = await connect(database_url(settings()))
        try:
            return await work(conn)
        finally:
            await conn.close()

    return asyncio.run(go())


def _cases() -> Any:
    from ingest import claims

    return claims


def _rub(kopecks: int) -> str:
    return f"{format_money(kopecks)} ₽"


def _summary(c: ClaimRecord) -> str:
    return (
        f"№ {c.id}\t{c.account}\t{STAGE_NAMES[c.stage]} с {c.stage_on}\t"
        f"долг {_rub(c.debt)}\tпени {_rub(c.penalty)}\t{c.address or c.house or ''}"
    )


def _print_claim(c: ClaimRecord) -> None:
    print(f"Претензия {_summary(c)}")
    for e in c.events:
        ev = e.event
        extra = f" ({CLOSE_REASONS[ev.reason]})" if ev.reason else ""
        print(
            f"  {day_name(ev.day)}\t{STAGE_NAMES[ev.stage]}{extra}\tдолг {_rub(ev.debt)}\t"
            f"пени {_rub(ev.penalty)}\t{e.actor}"
            + (f"\tдокумент: {e.document}" if e.document else "")
            + (f"\t{ev.note}" if ev.note else "")
        )


def run_open(args: argparse.Namespace) -> int:
    c = _run(
        lambda conn: _cases().open_claim(
            conn, args.account, _day(args), _today(), actor=_actor(), note=args.note
        )
    )
    _print_claim(c)
    return 0


def run_advance(args: argparse.Namespace) -> int:
    c = _run(
        lambda conn: _cases().advance_claim(
            conn, args.claim, args.stage, _day(args), _today(),
            actor=_actor(), note=args.note, document=args.document,
        )
    )  # fmt: skip
    _print_claim(c)
    return 0


def run_close(args: argparse.Namespace) -> int:
    c = _run(
        lambda conn: _cases().close_claim(
            conn, args.claim, args.reason, _day(args), _today(), actor=_actor(), note=args.note
        )
    )
    _print_claim(c)
    return 0


def run_list(args: argparse.Namespace) -> int:
    from adapters.store.claims import count_claims, list_claims

    if args.offset < 0 or not 1 <= args.limit <= 100_000:
        raise LedgerError("claims list: --offset from 0, --limit from 1 to 100000")

    async def page(conn: Any) -> tuple[list[Any], dict[str, int]]:
        found = await list_claims(
            conn, stage=args.stage, house=args.house, closed=args.closed,
            limit=args.limit, offset=args.offset,
        )  # fmt: skip
        return found, await count_claims(conn, house=args.house, closed=args.closed)

    found, counts = _run(page)
    total = sum(counts.values()) if args.stage is None else counts.get(args.stage, 0)
    for c in found:
        print(_summary(c))
    first, last = args.offset + 1, args.offset + len(found)
    shown = f" (показаны {first}–{last})" if found else " (с этого места нет)"
    print(f"претензий: {total}{'' if len(found) == total else shown}")
    return 0


def run_show(args: argparse.Namespace) -> int:
    _print_claim(_run(lambda conn: _cases().claim(conn, args.claim)))
    return 0


def run_letter(args: argparse.Namespace) -> int:
    from api.routes.ledger_data import load_payee
    from api.runtime import settings

    payee = load_payee(args.payee or settings().home / "payee.json")
    name, pdf = _run(lambda conn: _cases().stage_letter(conn, args.claim, payee, fresh=args.fresh))
    out: Path = args.out
    out.write_bytes(pdf)
    print(f"письмо {name} ({len(pdf)} байт) записано в {out}")
    return 0


def run_candidates(args: argparse.Namespace) -> int:
    min_debt = parse_typed_rubles(args.min_debt, "--min-debt")
    day = _day(args)
    with bar("должники", unit="сч.") as b:
        found = _run(
            lambda conn: _cases().candidates(
                conn, day, min_debt=min_debt, min_days=args.min_days, house=args.house,
                on_progress=b.to,
            )
        )  # fmt: skip
    for c in found:
        d = c.debt
        print(
            f"{d.account}\tдолг {_rub(d.debt)}\tпени {_rub(d.penalty_due)}\t"
            f"просрочка {d.oldest_delay} дн.\t{c.address or c.house or ''}"
        )
    print(
        f"должников для уведомления на {day_name(day)}: {len(found)} "
        f"(долг от {_rub(min_debt)}, просрочка от {args.min_days} дн., без открытой претензии)"
    )
    return 0
