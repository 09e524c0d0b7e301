"""``uchet vee --period`` (batch VEE over the store) and ``uchet anomalies`` (list them)."""

from __future__ import annotations

import argparse
import ast
import asyncio
import inspect
import json
from dataclasses import MISSING, asdict, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core.periods import parse_period

if TYPE_CHECKING:  # the store and ingest are imported by the handlers: `--help` stays fast
    from adapters.store import ReadingStore


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("vee", help="VEE за период: аномалии, баланс домов, расчётные показания")
    p.add_argument("--period", required=True, help="YYYY-MM")
    p.add_argument("--json", action="store_true")
    add_vee_settings(p)
    p.set_defaults(func=cmd_vee)
    p = sub.add_parser("anomalies", help="список сохранённых аномалий")
    p.add_argument("--period", help="YYYY-MM")
    p.add_argument("--type", help="код типа аномалии, например house_imbalance")
    p.add_argument("--house")
    p.add_argument("--meter", help="внешний id счётчика")
    p.add_argument("--severity", choices=("info", "warning", "critical"))
    p.add_argument("--limit", type=int, default=1000)
    p.add_argument("--json", action="store_true", help="по объекту JSON на строку")
    p.set_defaults(func=cmd_anomalies)


async def _open() -> ReadingStore:
    from adapters.store import ReadingStore
    from api.runtime import database_url, settings

    return await ReadingStore.open(database_url(settings()), max_size=1)


def cmd_vee(args: argparse.Namespace) -> int:
    from api.progress import bar
    from api.runtime import settings
    from ingest.vee import STEPS, VeeReport, run_vee

    parse_period(args.period)
    config = settings()
    vee = config.vee_settings(**vee_overrides(args))

    async def run() -> VeeReport:
        store = await _open()
        try:
            with bar(f"VEE {args.period}", total=STEPS, unit="этап") as b:
                return await run_vee(
                    store,
                    args.period,
                    timezone=config.timezone,
                    settings=vee,
                    on_progress=b.to,
                    chunk_houses=config.vee_chunk_houses,
                )
        finally:
            await store.close()

    report = asyncio.run(run())
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False))
        return 0
    found = ", ".join(f"{k} {v}" for k, v in sorted(report.anomalies.items())) or "нет"
    print(
        f"VEE {report.period}: счётчиков {report.meters}, показаний {report.readings}"
        f" (вне часовой сетки, не использовано: {report.off_grid})"
    )
    print(f"  аномалии: {found}")
    print(
        f"  баланс домов: пар дом/услуга с домовым счётчиком {report.houses_balanced};"
        f" сохранено расчётных показаний: {report.estimates}"
    )
    print(
        f"  время: загрузка {report.load_s:.2f} с, расчёт {report.compute_s:.2f} с,"
        f" запись {report.write_s:.2f} с"
    )
    return 0


_DEST = "vee_"  # namespace prefix of the VeeSettings options


#: the help of each VeeSettings option; a field missing here shows its docstring (English)
VEE_HELP = {
    "spike_k": "(vee.md) скачок — суточный расход выше медианы + k·MAD последних дней счётчика",
    "spike_window_days": "за сколько предыдущих дней берутся медиана и MAD (в начале данных —"
    " сколько есть)",
    "spike_min_days": "если годных опорных дней меньше, скачок не определяется",
    "spike_min_ratio": "скачок должен быть ещё и не меньше медианы, умноженной на это число",
    "spike_house_meters": "искать скачки и у ОДПУ (в их суточных объёмах — скачки и начала"
    " протечек помещений, о которых уже говорят проверки помещений и баланс дома)",
    "stuck_days": "(vee.md) нулевой расход не меньше стольких дней — счётчик стоит",
    "stuck_epsilon": "суточный расход не больше этого считается нулевым",
    "rollover_margin": "падение показаний — переход через ноль, если прежнее значение не дальше"
    " этой доли ёмкости от максимума, а новое — не дальше этой доли от нуля",
    "replacement_max_share": "падение не выше этой доли прежнего значения — возможная замена"
    " счётчика…",
    "replacement_confirm_hours": "…подтверждённая, если в следующие столько часов показания"
    " не падают снова и не возвращаются на полпути к старому значению (обычный расход нового"
    " счётчика)",
    "rollback_min_drop": "падение не больше этого — дрожание регистра: нулевой расход,"
    " без аномалии",
    "reverse_tolerance": "интервальные значения ниже минус этого числа — обратный поток",
    "sum_tolerance": "(vee.md) относительный допуск между Σ интервалов и разностью показаний"
    " регистра",
    "sum_abs_tolerance": "абсолютный допуск (около одного шага регистра), для малых объёмов",
    "balance_threshold": "(vee.md) доля небаланса (ОДПУ − Σ помещений) / ОДПУ, с которой он"
    " считается небалансом",
    "balance_persistent_days": "небаланс, который держится столько дней подряд, даёт аномалию",
    "missing_min_hours": "в отчёт попадает счётчик, у которого пропущено не меньше стольких"
    " часовых значений (и есть перерыв, см. ниже)",
    "missing_gap_hours": "в отчёт попадает счётчик, молчащий столько часов между показаниями"
    " (или с начала периода, или до сих пор): суточные умные счётчики по замыслу пропускают"
    " 23 часа в сутки",
    "missing_critical_hours": "перерыв такой длины (неделя) — критичный, короче — предупреждение",
}


def add_vee_settings(p: argparse.ArgumentParser) -> None:
    """One option per field of VeeSettings (``--missing-min-hours`` …), its default shown."""
    from core.vee import VeeSettings  # numpy: ~0.15 s, within the `--help` budget

    group = p.add_argument_group(
        "настройки VEE", "все пороги проверки (core/vee/settings.py, domain/vee.md)"
    )
    docs = _field_docs(VeeSettings)
    for f in fields(VeeSettings):
        flag = "--" + f.name.replace("_", "-")
        default = f.default if f.default is not MISSING else None
        shown = ("включено" if default else "выключено") if isinstance(default, bool) else default
        doc = VEE_HELP.get(f.name) or docs.get(f.name, f.name)
        text = f"{doc} (по умолчанию: {shown})".replace("%", "%%")
        if isinstance(default, bool):
            group.add_argument(
                flag, dest=_DEST + f.name, action=argparse.BooleanOptionalAction, help=text
            )
        else:
            kind = int if isinstance(default, int) else float
            group.add_argument(flag, dest=_DEST + f.name, type=kind, metavar="N", help=text)


def vee_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The VeeSettings fields given on the command line."""
    return {
        name[len(_DEST) :]: value
        for name, value in vars(args).items()
        if name.startswith(_DEST) and value is not None
    }


def _field_docs(cls: type) -> dict[str, str]:
    """First sentence of each field's docstring (the string right after it in the source)."""
    try:
        body = ast.parse(inspect.getsource(cls)).body[0]
    except (OSError, TypeError):
        return {}
    assert isinstance(body, ast.ClassDef)
    docs: dict[str, str] = {}
    for field, doc in zip(body.body, body.body[1:], strict=False):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(doc, ast.Expr)
            and isinstance(doc.value, ast.Constant)
            and isinstance(doc.value.value, str)
        ):
            text = " ".join(doc.value.value.split()).lstrip(". ")
            docs[field.target.id] = text.split(". ")[0].rstrip(". ")
    return docs


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

    from api.commands.readings import local_text, local_zone

    tz = local_zone()
    for a in asyncio.run(run()):
        if args.json:
            print(json.dumps(a, ensure_ascii=False))
        else:
            where = f"счётчик {a['meter']}" if a["meter"] else f"дом {a['house']}"
            start, end = (
                local_text(datetime.fromisoformat(str(a[k])), tz) for k in ("start", "end")
            )
            print(
                f"{a['period']} {a['severity']:<8} {a['type']:<22} {a['service']:<12} {where}"
                f"  {start} .. {end}"
            )
    return 0
