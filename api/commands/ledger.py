"""Ledger commands: ``uchet ledger-case CASE.json`` (spec/ledger-case.md, JSON to stdout),
``uchet ledger --month YYYY-MM`` (the same over the store), ``uchet payments ...`` (bank
registers, one payment, unknown accounts) and ``uchet key-rate ...`` (reference rates)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from adapters.payments.mapping import load_mapping
from adapters.payments.register import PaymentRow
from adapters.store.ledger import (
    Connection,
    add_key_rate,
    assign_payment,
    connect,
    load_accounts,
    record_payments,
    stored_key_rates,
    unassigned,
)
from api.progress import Bar, bar
from api.runtime import database_url, settings
from core.ledger import LedgerError, ledger_case
from core.ledger.case import settle_statements
from core.ledger.dates import day_name, last_day, parse_day, parse_period, period_name
from core.ledger.key_rates import merged
from core.ledger.model import CHARGES, PENALTY, LedgerSettings
from core.ledger.money import format_rate, parse_money, parse_rate
from ingest.payments import FileReport, import_register

if TYPE_CHECKING:
    from ingest.ledger_month import SavedMonth


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``ledger-case``, ``ledger``, ``payments`` and ``key-rate``."""
    parser = sub.add_parser(
        "ledger-case", help="рассчитать оплаты и пени по автономному примеру из JSON"
    )
    parser.add_argument("case", type=Path, help="файл JSON с примером")
    parser.set_defaults(func=run_ledger_case)

    parser = sub.add_parser("ledger", help="выписки всех лицевых счетов за месяц (JSON)")
    parser.add_argument("--month", required=True, help="YYYY-MM; расчёт на последний день месяца")
    parser.add_argument("--account", action="append", help="только эти лицевые счета")
    parser.add_argument(
        "--save",
        action="store_true",
        help="рассчитать все лицевые счета и сохранить месяц для страниц должников (заменяет"
        " сохранённый месяц; в текущем месяце — на сегодня)",
    )
    parser.set_defaults(func=run_ledger)

    payments = sub.add_parser("payments", help="реестры платежей банков и отдельные платежи")
    what = payments.add_subparsers(dest="payments_what", metavar="WHAT", required=True)
    p = what.add_parser("import", help="загрузить реестры платежей банков (CSV/TXT)")
    p.add_argument("files", type=Path, nargs="+")
    p.add_argument("--mapping", default="sberbank", help="sberbank (по умолчанию), csv или файл")
    p.set_defaults(func=run_import)
    p = what.add_parser("add", help="записать один платёж")
    p.add_argument("--account", required=True)
    p.add_argument("--date", required=True, help="YYYY-MM-DD")
    p.add_argument("--amount", required=True, help="рубли с копейками, 1234.50")
    p.add_argument("--period", help="месяц, указанный плательщиком, YYYY-MM")
    p.add_argument("--to", choices=(CHARGES, PENALTY), default=CHARGES)
    p.add_argument("--id", help="id платежа (по умолчанию: новый id вида manual:…)")
    p.set_defaults(func=run_add)
    p = what.add_parser(
        "opening-debts",
        help="задать входящее сальдо (долги на начало) из CSV: account;period;amount",
        description="Задаёт долг каждого лицевого счёта за периоды до его первого начисления "
        "в хранилище — так, как его передаёт прежняя расчётная система. CSV с заголовком, "
        "называющим столбцы account (или 'лицевой счёт', 'лс'), period ('период': YYYY-MM, "
        "MM.YYYY) и amount ('сумма', 'долг': 1500, 1 500,50; отрицательная — перенесённая "
        "переплата; 0 снимает долг); разделитель ';', табуляция или ','. Строки неизвестных "
        "лицевых счетов, периодов, за которые в хранилище уже есть начисления, и нечитаемые "
        "строки выводятся с номером строки и не применяются; остальные применяются. "
        "Повторная загрузка файла ничего не меняет.",
    )
    p.add_argument("files", type=Path, nargs="+")
    p.set_defaults(func=run_opening_debts)
    p = what.add_parser("unassigned", help="платежи на неизвестные лицевые счета")
    p.set_defaults(func=run_unassigned)
    p = what.add_parser("assign", help="отнести неразнесённый платёж на лицевой счёт")
    p.add_argument("payment")
    p.add_argument("account")
    p.set_defaults(func=run_assign)

    rates = sub.add_parser("key-rate", help="ключевые ставки Банка России (справочник)")
    what = rates.add_subparsers(dest="key_rate_what", metavar="WHAT", required=True)
    p = what.add_parser(
        "add", help="добавить решение о ключевой ставке: день, с которого она действует"
    )
    p.add_argument("date", help="YYYY-MM-DD")
    p.add_argument("percent", help="например 16.50")
    p.set_defaults(func=run_key_rate_add)
    p = what.add_parser("list", help="действующие ключевые ставки: поставляемые и добавленные")
    p.set_defaults(func=run_key_rate_list)

    p = sub.add_parser(
        "epd", help="ЕПД в PDF за месяц: все лицевые счета, счета дома или выбранные"
    )
    p.add_argument("--month", required=True, help="YYYY-MM")
    p.add_argument("--house", help="только лицевые счета этого дома")
    p.add_argument("--account", action="append", help="только эти лицевые счета")
    p.add_argument("--out", required=True, type=Path, help="папка для PDF")
    p.add_argument(
        "--payee",
        type=Path,
        help="реквизиты получателя, JSON (по умолчанию: $UCHET_HOME/payee.json)",
    )
    p.set_defaults(func=run_epd)


def read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LedgerError(f"{path}: cannot read ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise LedgerError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LedgerError(f"{path}: line {exc.lineno}: not JSON ({exc.msg})") from exc


def _print_json(out: object) -> None:
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


def run_ledger_case(args: argparse.Namespace) -> int:
    path: Path = args.case
    try:
        out = ledger_case(read_json(path))
    except LedgerError as exc:
        raise LedgerError(f"{path}: {exc}") from exc
    _print_json(out)
    return 0


async def _connect() -> Connection:
    return await connect(database_url(settings()))


async def ledger_month(
    conn: Connection, month: int, accounts: list[str] | None = None
) -> dict[str, Any]:
    """The statements of ``month`` (as of its last day) for the store's accounts."""
    as_of = last_day(month)
    rates = merged(await stored_key_rates(conn))
    out = []
    for account in await load_accounts(conn, date.fromordinal(as_of)):
        if accounts is None or account.id in accounts:
            out.append(settle_statements(account, [month], as_of, rates, LedgerSettings()))
    return {"accounts": out}


def run_ledger(args: argparse.Namespace) -> int:
    month = parse_period(args.month, "--month")
    if args.save:
        if args.account:
            raise LedgerError("--save settles every account: leave out --account")
        return run_save(month)

    async def go() -> dict[str, Any]:
        conn = await _connect()
        try:
            return await ledger_month(conn, month, args.account)
        finally:
            await conn.close()

    _print_json(asyncio.run(go()))
    return 0


def run_save(month: int) -> int:
    """``uchet ledger --month M --save``: the month saved for the debtors views, with progress."""
    from api.routes.ledger_data import report_day
    from ingest.ledger_month import save_month

    tz = ZoneInfo(settings().timezone)
    day = report_day(month, datetime.now(tz).date().toordinal())

    async def go(b: Bar) -> SavedMonth:
        conn = await _connect()
        try:
            return await save_month(conn, month, day, b.to)
        finally:
            await conn.close()

    with bar(f"месяц {period_name(month)}", unit="сч") as b:
        saved = asyncio.run(go(b))
    print(
        f"месяц {period_name(month)} сохранён на {date.fromordinal(day):%d.%m.%Y}: "
        f"лицевых счетов {saved.accounts}, должников {saved.debtors}, "
        f"за {saved.seconds:.1f} с"
    )
    return 0


def _print_report(r: FileReport) -> None:
    if r.error:
        print(f"{r.file}: error: {r.error}")
        return
    w = r.write
    print(
        f"{r.file}: {r.rows} payments read: {len(w.recorded)} recorded, "
        f"{len(w.duplicates)} already recorded, {len(w.unassigned)} for unknown accounts "
        f"(kept apart), {len(w.conflicts)} conflicting, {len(r.rejected)} rows rejected"
    )
    for e in r.rejected:
        print(f"  {r.file}: line {e.line}: {e.reason}: {e.detail}")
    for pid in w.conflicts:
        print(f"  {r.file}: payment {pid}: already recorded with other data; not changed")
    for warning in r.warnings:
        print(f"  {r.file}: warning: {warning}")


def run_import(args: argparse.Namespace) -> int:
    mapping = load_mapping(args.mapping, settings().home)

    async def go() -> list[FileReport]:
        conn = await _connect()
        try:
            return [await import_register(conn, path, mapping) for path in args.files]
        finally:
            await conn.close()

    reports = asyncio.run(go())
    for r in reports:
        _print_report(r)
    return 0 if all(r.ok for r in reports) else 1


def run_opening_debts(args: argparse.Namespace) -> int:
    from ingest.opening_debts import OpeningReport, import_opening_debts

    today = datetime.now(ZoneInfo(settings().timezone)).date()

    async def go() -> list[OpeningReport]:
        conn = await _connect()
        try:
            return [
                await import_opening_debts(conn, path, today.replace(day=1)) for path in args.files
            ]
        finally:
            await conn.close()

    reports = asyncio.run(go())
    for r in reports:
        if r.error:
            print(f"{r.file}: ошибка: {r.error}")
            continue
        w = r.write
        print(
            f"{r.file}: строк прочитано {r.rows}: новых {w.added}, изменено {w.changed}, "
            f"без изменений {w.unchanged}, отказано {len(w.refused)}, "
            f"строк с ошибкой {len(r.rejected)}"
        )
        for e in r.rejected:
            print(f"  {r.file}: line {e.line}: {e.reason}: {e.detail}")
        for row, reason, why in w.refused:
            print(f"  {r.file}: line {row.line}: {reason}: {why}")
    return 0 if all(r.ok for r in reports) else 1


def run_add(args: argparse.Namespace) -> int:
    amount = parse_money(args.amount, "--amount")
    if amount <= 0:
        raise LedgerError(f"--amount {args.amount} is not above zero")
    period = None
    if args.period:
        index = parse_period(args.period, "--period")
        period = date(index // 12, index % 12 + 1, 1)
    row = PaymentRow(
        id=args.id or f"manual:{uuid.uuid4().hex}",
        account=args.account,
        day=date.fromordinal(parse_day(args.date, "--date")),
        amount=amount,
        period=period,
        to=args.to,
        line=0,
    )

    async def go() -> None:
        conn = await _connect()
        try:
            w = await record_payments(conn, [row], "manual")
        finally:
            await conn.close()
        if w.recorded:
            print(f"payment {row.id} recorded for account {row.account}")
        elif w.unassigned:
            print(f"payment {row.id}: account {row.account} is unknown; kept apart to assign")
        elif w.duplicates:
            print(f"payment {row.id} was already recorded")
        else:
            raise LedgerError(f"payment {row.id}: already recorded with other data")

    asyncio.run(go())
    return 0


def run_unassigned(args: argparse.Namespace) -> int:
    async def go() -> None:
        conn = await _connect()
        try:
            for r in await unassigned(conn):
                print(
                    f"{r['id']}\t{r['account']}\t{r['day']}\t{r['amount']}\t"
                    f"{r['source']}:{r['line']}"
                )
        finally:
            await conn.close()

    asyncio.run(go())
    return 0


def run_assign(args: argparse.Namespace) -> int:
    async def go() -> str:
        conn = await _connect()
        try:
            return await assign_payment(conn, args.payment, args.account)
        finally:
            await conn.close()

    key = asyncio.run(go())
    print(f"payment {args.payment} assigned to account {key}")
    return 0


def run_key_rate_add(args: argparse.Namespace) -> int:
    day = parse_day(args.date, "date")
    bp = parse_rate(args.percent, "percent")

    async def go() -> None:
        conn = await _connect()
        try:
            await add_key_rate(conn, date.fromordinal(day), Decimal(bp).scaleb(-2))
        finally:
            await conn.close()

    asyncio.run(go())
    print(f"key rate {format_rate(bp)} % in force from {day_name(day)}")
    return 0


def run_key_rate_list(args: argparse.Namespace) -> int:
    async def go() -> list[tuple[int, int]]:
        conn = await _connect()
        try:
            return await stored_key_rates(conn)
        finally:
            await conn.close()

    stored = dict(asyncio.run(go()))
    rates = merged(list(stored.items()))
    for day, bp in zip(rates.days, rates.rates_bp, strict=True):
        print(f"{day_name(day)}\t{format_rate(bp)}\t{'added' if day in stored else 'shipped'}")
    return 0


def _file_name(account: str, month: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in account)[:100]
    return f"epd-{safe}-{month}.pdf"


def run_epd(args: argparse.Namespace) -> int:
    """Writes ``epd-<account>-<month>.pdf`` per account into ``--out``, with progress."""
    from api.routes.ledger_data import epd_documents, load_payee

    month = parse_period(args.month, "--month")
    payee = load_payee(args.payee or settings().home / "payee.json")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    def write(account: str, pdf: bytes, qr: str) -> None:
        (out / _file_name(account, args.month)).write_bytes(pdf)

    async def go(progress: Bar) -> int:
        conn = await _connect()
        try:
            return await epd_documents(
                conn, month, payee, keys=args.account, house=args.house, write=write,
                progress=progress.to,
            )  # fmt: skip
        finally:
            await conn.close()

    with bar(f"ЕПД за {args.month}", unit="док") as b:
        count = asyncio.run(go(b))
    seconds = time.perf_counter() - started
    rate = count / seconds if seconds > 0 else 0.0
    print(f"ЕПД за {args.month}: записано {count} в {out} за {seconds:.1f} с ({rate:.1f} в с)")
    return 0
