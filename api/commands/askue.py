"""``uchet askue parse`` (80020 files to JSON lines, no store) and ``uchet simulate askue``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson

from adapters.askue import (
    CHANNEL_OBIS,
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT_S,
    AskueError,
    ParsedFile,
    ReceiptStatus,
    parse_files,
)
from core.codes import Flag, flag_names
from core.errors import ConfigError

if TYPE_CHECKING:
    from api.progress import Bar

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``uchet askue`` and its actions."""
    askue = sub.add_parser("askue", help="файлы выгрузки АСКУЭ (макет 80020)")
    actions = askue.add_subparsers(dest="askue_action", metavar="ACTION", required=True)
    parse = actions.add_parser(
        "parse",
        help="разобрать файлы 80020, по строке JSON на интервальное значение (без хранилища)",
        description=(
            "По строке JSON на каждое интервальное значение: file, sender_inn, point, channel "
            "(OBIS), code (канал 80020, null для групп), start, end (UTC, ...Z), value (точное "
            "десятичное число текстом), status (80020: 0 — коммерческое, 1 — нет), flags. "
            "Негодный файл или значение дают строку {file, error, receipt, reason, ...где}; "
            "код выхода тогда 1."
        ),
    )
    parse.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parse.add_argument(
        "--tz", help="часовой пояс местного времени в файлах (по умолчанию UCHET_TIMEZONE)"
    )
    parse.add_argument(
        "--max-bytes",
        type=int,
        help=f"не принимать файлы больше стольких байт (по умолчанию {DEFAULT_MAX_BYTES})",
    )
    parse.add_argument(
        "--timeout", type=float, help=f"секунд на файл (по умолчанию {DEFAULT_TIMEOUT_S:g})"
    )
    parse.set_defaults(func=run_parse)
    imp = actions.add_parser(
        "import",
        help="загрузить в хранилище файлы 80020 и выгрузки показаний CSV/XLSX, отчёт по файлам",
        description=(
            "Загружает каждый файл и выводит отчёт по нему. 80020 XML: повторная загрузка "
            "ничего не меняет; больший номер сообщения от того же отправителя за тот же день — "
            "корректировка, заменяющая прежние значения; в отчёте принятые значения, дубликаты, "
            "заменённые, попавшие в карантин и отклонённые с причинами, статус квитанции 80021. "
            "Выгрузки показаний счётчиков CSV/XLSX: читаются по --mapping или по сопоставлению, "
            "столбцы которого есть в заголовке файла (поставляемые и $UCHET_HOME/mappings/*.json; "
            "см. `uchet askue mappings`); в отчёте прочитано строк, сохранено, дубликатов, в "
            "карантине по причинам с номерами строк, счётчики, которых раньше не было. Код "
            "выхода 1, если хоть один файл не загружен."
        ),
    )
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    imp.add_argument(
        "--tz", help="часовой пояс местного времени в файлах (по умолчанию UCHET_TIMEZONE)"
    )
    imp.add_argument(
        "--mapping",
        metavar="NAME|FILE",
        help="читать каждый файл как выгрузку показаний по этому сопоставлению (имя или .json)",
    )
    imp.add_argument("--json", action="store_true", help="по отчёту JSON на строку")
    imp.set_defaults(func=run_import)
    maps = actions.add_parser(
        "mappings",
        help="список сопоставлений столбцов для выгрузок показаний CSV/XLSX",
        description="Поставляемые сопоставления и сопоставления из $UCHET_HOME/mappings "
        "(при совпадении имени берутся они).",
    )
    maps.add_argument("--json", action="store_true", help="сопоставления в JSON")
    maps.set_defaults(func=run_mappings)


def register_simulate(sim_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``uchet simulate askue``."""
    from simulators.askue import BROKEN_KINDS

    p = sim_sub.add_parser(
        "askue",
        help="записать файлы 80020 моделируемых счётчиков и истинные значения",
        description="Записывает в --out файлы 80020 и askue_truth.json (истинные значения).",
    )
    p.add_argument("--out", type=Path, required=True, help="папка для записи")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--points", type=int, default=10, help="точек измерения в файле")
    p.add_argument("--days", type=int, default=1)
    p.add_argument(
        "--start", type=date.fromisoformat, default=date(2024, 1, 15), help="первый день"
    )
    p.add_argument("--minutes", type=int, choices=(30, 60), default=30)
    p.add_argument("--encoding", choices=("windows-1251", "utf-8"), default="windows-1251")
    p.add_argument("--channels", default="01", help="каналы 80020 через запятую (01..04)")
    p.add_argument("--groups", action="store_true", help="добавить deliverygroup и peretok")
    p.add_argument("--corrections", type=int, default=0, help="дней с корректировкой")
    p.add_argument("--non-commercial", type=float, default=0.0, help="доля значений со статусом 1")
    p.add_argument(
        "--measurement-errors",
        type=float,
        default=0.0,
        help="доля значений с пометкой об ошибке измерения",
    )
    p.add_argument(
        "--changeover",
        action="store_true",
        help="добавить последний в поясе день перевода часов назад",
    )
    p.add_argument(
        "--broken", default="", help=f"испорченные файлы через запятую: {','.join(BROKEN_KINDS)}"
    )
    p.add_argument("--sender-inn", default="7700000000")
    p.add_argument("--tz", help="часовой пояс выгружающей системы (по умолчанию UCHET_TIMEZONE)")
    p.add_argument("--no-truth", action="store_true", help="не записывать askue_truth.json")
    p.set_defaults(func=run_simulate)


def _iso(t: Any) -> str:
    return f"{t:%Y-%m-%dT%H:%M:%S}Z"


def _error_line(exc: AskueError) -> dict[str, Any]:
    return {
        "file": exc.file,
        "error": exc.detail,
        "receipt": int(exc.receipt),
        "reason": exc.reason,
        **exc.location(),
    }


def write_values(parsed: ParsedFile, out: IO[bytes]) -> int:
    """Writes one JSON line per non-empty value of ``parsed``; returns how many."""
    n = 0
    for series in parsed.series:
        base = {
            "file": parsed.file,
            "sender_inn": parsed.header.sender_inn,
            "point": series.point.code,
            "channel": CHANNEL_OBIS[series.channel],
            "code": series.channel,
        }
        lines = []
        for period, value, flags in zip(series.periods, series.values, series.flags, strict=True):
            if value is None:
                continue
            lines.append(
                orjson.dumps(
                    {
                        **base,
                        "start": _iso(period.start_utc),
                        "end": _iso(period.end_utc),
                        "value": str(value),
                        "status": 1 if flags & Flag.NON_COMMERCIAL else 0,
                        "flags": flag_names(flags),
                    }
                )
            )
        if lines:
            out.write(b"\n".join(lines) + b"\n")
            n += len(lines)
    return n


def run_parse(args: argparse.Namespace) -> int:
    from core.config import Settings  # pydantic: imported when run, not for --help

    settings = Settings()
    tz = args.tz or settings.timezone
    # The size and time bounds are settings once Settings has them (askue_max_bytes,
    # askue_timeout_s); until then the defaults of adapters.askue apply.
    max_bytes = args.max_bytes or getattr(settings, "askue_max_bytes", DEFAULT_MAX_BYTES)
    timeout = args.timeout or getattr(settings, "askue_timeout_s", DEFAULT_TIMEOUT_S)
    out = sys.stdout.buffer
    failed = 0
    # a reader that goes away (head, less) ends the command quietly: see api.cli.main
    for result in parse_files(args.files, tz=tz, max_bytes=max_bytes, timeout_s=timeout):
        if isinstance(result, AskueError):
            failed += 1
            out.write(orjson.dumps(_error_line(result)) + b"\n")
            log.warning("%s", result)
            continue
        n = write_values(result, out)
        for exc in result.errors:
            out.write(orjson.dumps(_error_line(exc)) + b"\n")
        if result.error_count > len(result.errors):
            more = result.error_count - len(result.errors)
            line = {
                "file": result.file,
                "error": f"{more} more errors not listed",
                "receipt": int(result.receipt),
            }
            out.write(orjson.dumps(line) + b"\n")
        for warning in result.warnings:
            log.warning("%s: %s", result.file, warning)
        if result.error_count:
            failed += 1
        log.info(
            "%s: number %d, day %s, %d values, %d empty, %d errors, receipt %d",
            result.file,
            result.header.number,
            result.header.day,
            n,
            result.empty_count,
            result.error_count,
            result.receipt,
        )
    out.flush()
    return 1 if failed else 0


def run_simulate(args: argparse.Namespace) -> int:
    from api.progress import bar
    from core.config import Settings
    from simulators.askue import AskueFleet, write_fleet

    try:
        fleet = AskueFleet(
            seed=args.seed,
            points=args.points,
            days=args.days,
            start=args.start,
            minutes=args.minutes,
            encoding=args.encoding,
            channels=tuple(c.strip() for c in args.channels.split(",") if c.strip()),
            groups=args.groups,
            corrections=args.corrections,
            non_commercial=args.non_commercial,
            measurement_errors=args.measurement_errors,
            changeover=args.changeover,
            broken=tuple(b.strip() for b in args.broken.split(",") if b.strip()),
            sender_inn=args.sender_inn,
            tz=args.tz or Settings().timezone,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    with bar("запись файлов 80020", unit="шаг") as b:
        truth = write_fleet(args.out, fleet, truth=not args.no_truth, on_progress=b.to)
    summary = {
        "out": str(args.out),
        "files": len(truth["files"]),
        "values": len(truth["values"]),
        "truth": None if args.no_truth else str(args.out / "askue_truth.json"),
    }
    sys.stdout.buffer.write(orjson.dumps(summary) + b"\n")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """``uchet askue import``: files into the store, one report per file."""
    import asyncio

    from adapters.registers import find_mapping, mapping_dirs
    from adapters.store import ReadingStore
    from api.progress import bar
    from api.runtime import database_url
    from core.config import Settings
    from ingest.file_import import FileImporter
    from ingest.intake import Intake

    s = Settings()
    tz = args.tz or s.timezone
    # a wrong --mapping is a user error before anything is opened
    mapping = find_mapping(args.mapping, mapping_dirs(s.home)) if args.mapping else None

    async def run() -> list[dict[str, object]]:
        store = await ReadingStore.open(database_url(s))
        try:
            importer = FileImporter(
                Intake.from_settings(store, s, retry=False),
                tz=tz,
                home=s.home,
                mapping=mapping,
                max_bytes=s.askue_max_bytes,
                timeout_s=s.askue_timeout_s,
            )
            reports = []
            with bar("импорт файлов", total=_total_bytes(args.files), unit="B") as b:
                base = 0
                for path in args.files:
                    report = await importer.import_file(
                        path,
                        on_stage=_noted(b, path.name),
                        on_progress=_moved(b, base),
                    )
                    base += _size(path)
                    b.to(base)
                    print(
                        json.dumps(report.as_dict(), ensure_ascii=False)
                        if args.json
                        else report_text(report.as_dict()),
                        flush=True,
                    )
                    reports.append(report.as_dict())
            return reports
        finally:
            await store.close()

    reports = asyncio.run(run())
    return 1 if any(r["status"] == "failed" for r in reports) else 0


def report_text(doc: dict[str, Any]) -> str:
    """The report of one imported file (``as_dict()`` of an 80020 or a register export
    report) as an operator reads it; reasons, mappings and receipt names stay identifiers."""
    name = doc["file"]
    registers = doc.get("kind") == "registers"
    if doc["status"] == "failed":
        receipt = "" if registers else f" (статус 80021 {doc['receipt']})"
        return f"{name}: ОШИБКА{receipt}: {doc['error']}"
    if doc["status"] == "already_imported":
        how = f" по шаблону {doc['mapping']}" if registers else ""
        return f"{name}: уже импортирован{how}, ничего не изменено"
    if registers:
        return _registers_text(doc)
    parts = [
        f"значений {doc['values']}",
        f"принято {doc['accepted']}",
        f"дубликатов {doc['duplicates']}",
        f"заменено {doc['superseded']}",
    ]
    if doc["quarantined"]:
        held = ", ".join(f"{k} {v}" for k, v in doc["quarantined"].items())
        parts.append(f"в карантине: {held}")
    if doc["rejected_count"]:
        parts.append(f"отклонено {doc['rejected_count']} (см. отчёт)")
    if doc["supersedes"]:
        parts.append(f"исправляет {', '.join(doc['supersedes'])}")
    if doc["superseded_by"]:
        parts.append(f"уже исправлен файлом {doc['superseded_by']}")
    if doc["conflicts"]:
        parts.append(f"конфликтов {doc['conflicts']} (сохранённые значения оставлены)")
    if doc["unknown_channel_values"]:
        parts.append(f"значений неизвестных каналов в карантине {doc['unknown_channel_values']}")
    if doc["channels_read"]:
        parts.append(f"каналов прочитано по таблице или описанию {len(doc['channels_read'])}")
    if doc["receipt"] >= ReceiptStatus.REJECTED_UNKNOWN_CHANNELS:
        parts.append(f"квитанция: {doc['receipt_text']}")
    text = f"{name}: номер {doc['number']}, статус 80021 {doc['receipt']}: " + ", ".join(parts)
    return text + (f". {doc['note']}" if doc["note"] else "")


def _registers_text(doc: dict[str, Any]) -> str:
    parts = [
        f"строк {doc['rows']}, значений {doc['values']}",
        f"сохранено {doc['stored']}",
        f"дубликатов {doc['duplicates']}",
    ]
    if doc["conflicts"]:
        parts.append(f"конфликтов {doc['conflicts']}")
    if doc["empty_intervals"]:
        parts.append(f"интервалов без значений {doc['empty_intervals']}")
    for reason, rows in sorted(doc["quarantined_rows"].items()):
        shown = ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")
        parts.append(f"в карантине {reason} {doc['quarantined'][reason]} (строки {shown})")
    if doc["already_quarantined"]:
        parts.append(f"уже в карантине {doc['already_quarantined']}")
    if doc["new_meter_count"]:
        parts.append(f"новых счётчиков {doc['new_meter_count']}")
    return f"{doc['file']} (шаблон {doc['mapping']}): " + ", ".join(parts)


def _noted(b: Bar, name: str) -> Callable[[str], None]:
    """An importer's stage shown after the bar with the file's name."""
    return lambda stage: b.note(f"{name}: {stage}")


def _moved(b: Bar, base: int) -> Callable[[int, int], None]:
    """A file's bytes done, moved on by the files before it."""
    return lambda done, _total: b.to(base + done)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # a missing file is reported by the importer
        return 0


def _total_bytes(paths: list[Path]) -> int:
    return sum(_size(p) for p in paths)


def run_mappings(args: argparse.Namespace) -> int:
    """``uchet askue mappings``: the register export layouts uchet can read."""
    from adapters.registers import available_mappings, mapping_dirs
    from core.config import Settings

    known = available_mappings(mapping_dirs(Settings().home))
    if args.json:
        doc = [m.model_dump(mode="json") for _, m in sorted(known.items())]
        print(json.dumps(doc, ensure_ascii=False, indent=1))
        return 0
    for name, m in sorted(known.items()):
        print(f"{name} ({m.format}, source {m.source}): {m.description}")
    return 0
