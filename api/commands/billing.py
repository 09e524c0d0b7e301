"""Billing commands: ``uchet bill-case CASE.json`` (a self-contained case, spec/billing-case.md,
to stdout), ``uchet load FILE.json`` (reference data into the store, docs/billing-data.md) and
``uchet bill --period YYYY-MM`` (bills the store, idempotent per period)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from adapters.billing import parse_reference
from adapters.store.billing_load import LoadReport, load_reference
from adapters.store.connections import Connection, connect
from api.progress import bar
from api.runtime import database_url, settings
from core.billing import METHODS, SERVICES, month_name
from core.billing.case import bill_case
from core.errors import BillingError
from ingest.billing import STAGES, BillReport, bill_period, parse_billing_period


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``bill-case``."""
    parser = sub.add_parser(
        "bill-case", help="рассчитать начисления по автономному примеру из JSON, вывести JSON"
    )
    parser.add_argument("case", type=Path, help="файл JSON с примером расчёта")
    parser.add_argument(
        "--no-explanation", action="store_true", help="без пояснения к каждой строке"
    )
    parser.set_defaults(func=run_bill_case)

    parser = sub.add_parser(
        "load", help="загрузить дома, помещения, привязки счётчиков, тарифы, нормативы (файл JSON)"
    )
    parser.add_argument("file", type=Path, help="справочные данные в JSON (docs/billing-data.md)")
    parser.set_defaults(func=run_load)

    parser = sub.add_parser(
        "bill", help="начислить за период по данным хранилища (заменяет его начисления)"
    )
    parser.add_argument("--period", required=True, help="расчётный месяц, YYYY-MM")
    parser.add_argument(
        "--lines",
        action="store_true",
        help="вывести также каждую строку начислений (через табуляцию)",
    )
    parser.add_argument(
        "--progress",
        action="store_true",
        help="выводить каждый шаг с его временем в stderr вместо индикатора этапов "
        "загрузка / расчёт / пояснения / запись (рисуется в терминале)",
    )
    parser.set_defaults(func=run_bill)


def run_bill_case(args: argparse.Namespace) -> int:
    path: Path = args.case
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BillingError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BillingError(f"{path}: line {exc.lineno}: not JSON ({exc.msg})") from exc
    try:
        out = bill_case(doc, explain=not args.no_explanation)
    except BillingError as exc:
        raise BillingError(f"{path}: {exc}") from exc
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")
    return 0


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BillingError(f"{path}: cannot read ({exc.strerror})") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BillingError(f"{path}: line {exc.lineno}: not JSON ({exc.msg})") from exc


async def _connect(url: str) -> Connection:
    return await connect(url)


async def _load(url: str, path: Path) -> LoadReport:
    data = parse_reference(_read_json(path), name=str(path))
    conn = await _connect(url)
    try:
        return await load_reference(conn, data)
    except BillingError as exc:
        raise BillingError(f"{path}: {exc}") from exc
    finally:
        await conn.close()


#: the tables of a reference file as the load report names them
_TABLE_NAMES = {
    "houses": "дома",
    "premises": "помещения",
    "meters": "счётчики",
    "tariffs": "тарифы",
    "normatives": "нормативы",
    "soi_normatives": "нормативы СОИ",
}


def run_load(args: argparse.Namespace) -> int:
    report = asyncio.run(_load(database_url(settings()), args.file))
    print(f"загружено: {args.file}")
    for name, c in report.counts.items():
        label = _TABLE_NAMES.get(name, name) + ":"
        print(
            f"  {label:16} создано {c.created}, изменено {c.updated}, без изменений {c.unchanged}"
        )
    print(f"  переопределений нормативов помещений: {report.overrides}")
    return 0


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


#: the services as the totals table names them
_SERVICE_NAMES = {
    "cold_water": "холодная вода",
    "hot_water": "горячая вода",
    "sewage": "водоотведение",
    "electricity": "электроэнергия",
    "gas": "газ",
    "heating": "отопление",
}

#: the stages of a run as the progress bar names them
_STAGE_NAMES = {
    "load": "загрузка",
    "compute": "расчёт",
    "explain": "расшифровка",
    "write": "запись",
    "done": "готово",
}


async def _bill(url: str, period: int, timezone: str, progress: bool) -> BillReport:
    conn = await _connect(url)
    try:
        if progress:
            return await bill_period(conn, period, timezone=timezone, progress=_progress)
        with bar(f"начисления {month_name(period)}", total=len(STAGES), unit="этап") as b:

            def stage(done: int, name: str) -> None:
                b.note(_STAGE_NAMES[name])
                b.to(done)

            return await bill_period(conn, period, timezone=timezone, on_stage=stage)
    finally:
        await conn.close()


def _money(value: object) -> str:
    return f"{value:,.2f}".replace(",", " ")


def _money_int(value: float) -> str:
    """A whole number with its thousands spaced: ``12 345``."""
    return f"{value:,.0f}".replace(",", " ")


def _print_lines(report: BillReport) -> None:
    result = report.result
    assert result is not None
    inp, a = result.input, result.accruals
    coefficient = str(inp.settings.increasing_coefficient)
    print("premise\tservice\tmethod\tvolume\ttariff\tcoefficient\tamount\texplanation")
    for i in range(a.period.size):
        s = int(a.service[i])
        print(
            f"{inp.premises.ids[int(a.premise[i])]}\t{SERVICES[s]}\t{METHODS[int(a.method[i])]}"
            f"\t{int(a.volume_micro[i]) / 10**6:.6f}\t{inp.tariffs[s]}"
            f"\t{coefficient if a.increased[i] else '1'}\t{int(a.amount_kopecks[i]) / 100:.2f}"
            f"\t{report.explanations[i]}"
        )


def run_bill(args: argparse.Namespace) -> int:
    period = parse_billing_period(args.period)
    s = settings()
    report = asyncio.run(_bill(database_url(s), period, s.timezone, args.progress))
    if args.lines:
        _print_lines(report)
    print(
        f"начисления за {report.period} (запуск {report.run_id}): помещений {report.premises}, "
        f"счётчиков {report.meters}, строк {report.lines}, "
        f"расчётных показаний счётчиков {report.estimates}"
    )
    for warning in report.warnings:
        print(f"предупреждение: {warning}", file=sys.stderr)
    if report.unbilled:
        meters = sorted({m for m, _ in report.unbilled})
        print(
            f"  не учтены показания счётчиков ({len(meters)}, см. предупреждения): "
            f"{', '.join(meters[:10])}{' …' if len(meters) > 10 else ''}"
        )
    print(f"  {'услуга':16} {'строк':>9} {'сумма, ₽':>18}")
    for t in report.services:
        print(
            f"  {_SERVICE_NAMES.get(t.service, t.service):16} {t.lines:>9} {_money(t.amount):>18}"
        )
    print(f"  {'итого':16} {report.lines:>9} {_money(report.total):>18}")
    total = report.load_s + report.compute_s + report.explain_s + report.write_s
    rate = report.lines / total if total > 0 else 0.0
    print(
        f"время: загрузка {report.load_s:.2f} с, расчёт {report.compute_s:.2f} с, "
        f"расшифровки {report.explain_s:.2f} с (во время записи), "
        f"запись {report.write_s:.2f} с; всего {total:.2f} с, {_money_int(rate)} строк/с"
    )
    return 0
