"""``uchet reconcile``: import a property register, report what differs from the accounts
(unbilled premises, wrong areas, …, ranked by money), record operators' decisions
(docs/reconcile.md)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from datetime import date
from pathlib import Path

from adapters.property import find_property_mapping, property_mappings
from adapters.property.export import KIND_NAMES, write_csv, xlsx_bytes
from adapters.store.connections import Connection, connect
from adapters.store.property import PremiseTaken, premise_exists, record_decision
from api.progress import bar
from api.runtime import database_url, settings
from core.errors import ConfigError
from core.reconcile.match import MatchOptions
from core.reconcile.report import KINDS, ReconcileOptions, ranked_houses
from ingest.property_import import (
    REPORT_STEPS,
    BuiltReport,
    build_report,
    import_property_register,
)
from ingest.property_import import open_from_register as open_account


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``reconcile`` with ``import``, ``report``, ``confirm``, ``check``, ``mappings``."""
    parser = sub.add_parser(
        "reconcile", help="сверка реестра имущества с лицевыми счетами (неучтённые)"
    )
    what = parser.add_subparsers(dest="reconcile_what", metavar="WHAT", required=True)
    p = what.add_parser("import", help="загрузить реестр имущества (CSV/XLSX) по сопоставлению")
    p.add_argument("file", type=Path)
    p.add_argument("--mapping", default="municipal_premises", help="имя или файл JSON")
    p.set_defaults(func=run_import)
    p = what.add_parser(
        "report", help="расхождения по убыванию суммы в месяц, которая от них зависит"
    )
    p.add_argument("--csv", type=Path, help="записать все расхождения в этот файл CSV")
    p.add_argument("--xlsx", type=Path, help="записать все расхождения в эту книгу XLSX")
    p.add_argument(
        "--limit", type=int, default=30, help="сколько расхождений вывести (по умолчанию 30)"
    )
    p.add_argument(
        "--accept",
        type=float,
        default=90.0,
        help="оценка совпадения, с которой оно принимается (0-100)",
    )
    p.add_argument(
        "--review",
        type=float,
        default=70.0,
        help="оценка, с которой совпадение предлагается на проверку",
    )
    p.add_argument("--on", type=date.fromisoformat, help="тарифы на дату (по умолчанию сегодня)")
    p.set_defaults(func=run_report)
    p = what.add_parser("confirm", help="подтвердить, что строка реестра — это помещение")
    p.add_argument("key", help="ключ расхождения (report --csv, столбец key)")
    p.add_argument("premise", help="id помещения")
    p.add_argument("--note", default="")
    p.set_defaults(func=run_confirm)
    p = what.add_parser(
        "check", help="отметить расхождение как проверенное (в отчёт больше не попадает)"
    )
    p.add_argument("kind", choices=KINDS)
    p.add_argument("key")
    p.add_argument("--note", default="")
    p.set_defaults(func=run_check)
    p = what.add_parser("open", help="открыть лицевой счёт по строке реестра без начислений")
    p.add_argument("key", help="ключ расхождения «без начислений» (report --csv, столбец key)")
    p.add_argument("--account", help="лицевой счёт (по умолчанию: id нового помещения)")
    p.add_argument("--note", default="")
    p.add_argument("--on", type=date.fromisoformat, help="тарифы на дату (по умолчанию сегодня)")
    p.set_defaults(func=run_open)
    p = what.add_parser("mappings", help="список сопоставлений реестров имущества")
    p.set_defaults(func=run_mappings)


async def _connect() -> Connection:
    return await connect(database_url(settings()))


def run_import(args: argparse.Namespace) -> int:
    mapping = find_property_mapping(args.mapping, settings().home)

    async def go() -> int:
        conn = await _connect()
        try:
            with bar("импорт реестра", total=100, unit="%") as b:
                report = await import_property_register(conn, args.file, mapping, on_progress=b.to)
        finally:
            await conn.close()
        print(
            f"загружен {report.file} как реестр №{report.import_id} ({mapping.name}):"
            f" помещений {report.rows}, строк с ошибками {len(report.problems)},"
            f" пропущено {report.skipped}"
        )
        for detail in report.problems[:50]:
            print(f"  {detail}")
        if len(report.problems) > 50:
            print(f"  … и ещё {len(report.problems) - 50} (их перечисляет uchet reconcile report)")
        return 0 if report.rows else 1

    return asyncio.run(go())


def run_report(args: argparse.Namespace) -> int:
    options = ReconcileOptions(match=MatchOptions(accept=args.accept, review=args.review))
    if not 0 <= args.review <= args.accept <= 100:
        raise ConfigError("--review and --accept must satisfy 0 <= review <= accept <= 100")

    async def go() -> BuiltReport:
        conn = await _connect()
        try:
            with bar("сверка", total=REPORT_STEPS, unit="шаг") as b:
                return await build_report(
                    conn, options=options, on=args.on or date.today(), on_progress=b.to
                )
        finally:
            await conn.close()

    built = asyncio.run(go())
    report, file, problems, times = built.report, built.file, built.problems, built.times
    counts = ", ".join(f"{KIND_NAMES[k].lower()} {report.counts.get(k, 0)}" for k in KINDS)
    print(
        f"реестр {file}: строк {report.rows}, сопоставлено {report.matched} из"
        f" {report.premises} помещений с лицевыми счетами; {counts}; строк с ошибками"
        f" {len(problems)}"
    )
    total = sum((f.money for f in report.findings), start=0)
    print(f"под угрозой: {total} ₽ в месяц")
    for rank, x in enumerate(report.findings[: args.limit], start=1):
        who = x.premise_id or x.where
        print(f"{rank:4} {x.kind:12} {x.money:>12} ₽  {x.house_id or '-':8} {who}: {x.detail}")
    houses = ranked_houses(report)[:10]
    if houses:
        print("дома (под угрозой в месяц; без лицевого счёта; нет в реестре; Δ площади;")
        print("      Δ отопления; ОДН, начисленные не тем помещениям):")
        for h in houses:
            flag = " — неучтённое потребление" if h.unmetered_consumption else ""
            print(
                f"  {h.house_id}: {h.money} ₽; без л/с {h.unbilled} ({h.unbilled_area} м²),"
                f" нет в реестре {h.unregistered}; площадь {h.area_delta:+} м²; отопление"
                f" {h.heating_delta:+} ₽; ОДН {h.soi_moved} ₽{flag}"
            )
    for detail in problems[:20]:
        print(f"строка с ошибкой: {detail}")
    if args.csv:
        with args.csv.open("w", encoding="utf-8", newline="") as f:
            write_csv(report.findings, f)
        print(f"расхождений записано: {len(report.findings)} в {args.csv}")
    if args.xlsx:
        args.xlsx.write_bytes(xlsx_bytes(report.findings))
        print(f"расхождений записано: {len(report.findings)} в {args.xlsx}")
    print(
        f"время: загрузка {times['load']:.2f} с, сверка {times['reconcile']:.2f} с", file=sys.stderr
    )
    return 0


def _decide(**kw: object) -> int:
    async def go() -> int:
        conn = await _connect()
        try:
            pid = kw.get("premise_id")
            if pid is not None and not await premise_exists(conn, str(pid)):
                raise ConfigError(f"нет помещения {pid!r}")
            return await record_decision(conn, decided_by=getpass.getuser(), **kw)  # type: ignore[arg-type]
        finally:
            await conn.close()

    return asyncio.run(go())


def run_confirm(args: argparse.Namespace) -> int:
    n = _decide(key=args.key, decision="confirm", premise_id=args.premise, note=args.note)
    print(f"решение {n}: {args.key} — это помещение {args.premise}")
    return 0


def run_check(args: argparse.Namespace) -> int:
    n = _decide(key=args.key, decision="checked", kind=args.kind, note=args.note)
    print(f"решение {n}: {args.kind} {args.key} отмечено как проверенное")
    return 0


def run_open(args: argparse.Namespace) -> int:
    async def go() -> str:
        conn = await _connect()
        try:
            built = await build_report(conn, options=ReconcileOptions(), on=args.on or date.today())
            try:
                done = await open_account(
                    conn, built, args.key, decided_by=getpass.getuser(), account=args.account,
                    note=args.note,
                )  # fmt: skip
            except PremiseTaken as exc:
                raise ConfigError(str(exc)) from None
        finally:
            await conn.close()
        if not done.created:
            return (
                f"{args.key}: лицевой счёт уже открыт: {done.account} (помещение {done.premise_id})"
            )
        return (
            f"решение {done.decision_id}: открыт лицевой счёт {done.account} (помещение"
            f" {done.premise_id}) по строке {args.key}"
        )

    print(asyncio.run(go()))
    return 0


def run_mappings(args: argparse.Namespace) -> int:
    for name, m in property_mappings(settings().home).items():
        print(f"{name}: {m.description}")
    return 0
