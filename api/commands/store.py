"""``uchet migrate`` and ``uchet stats``."""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "migrate", help="создать или обновить схему базы данных (повторный запуск безопасен)"
    )
    p.set_defaults(func=cmd_migrate)
    p = sub.add_parser("stats", help="статистика приёма показаний из хранилища")
    p.add_argument("--json", action="store_true", help="один объект JSON (стабильный формат)")
    p.set_defaults(func=cmd_stats)


#: the physical form of the readings table, as ``uchet migrate`` says it
_PHYSICAL = {
    "timescaledb hypertable": "гипертаблица TimescaleDB",
    "native range partitioning": "секции PostgreSQL по диапазонам времени (без TimescaleDB)",
}


def cmd_migrate(args: argparse.Namespace) -> int:
    from api.runtime import database_url, migrate_url, settings

    report = asyncio.run(migrate_url(database_url(settings())))
    applied = ", ".join(report.applied) if report.applied else "применять нечего"
    print(f"версия схемы {report.version}: {applied}")
    print(f"показания: {_PHYSICAL.get(report.physical, report.physical)}")
    return 0


async def _stats(url: str) -> dict[str, object]:
    from adapters.store import ReadingStore

    store = await ReadingStore.open(url)
    try:
        return await store.stats()
    finally:
        await store.close()


def cmd_stats(args: argparse.Namespace) -> int:
    from api.runtime import database_url, settings

    stats = asyncio.run(_stats(database_url(settings())))
    if args.json:
        print(json.dumps(stats, ensure_ascii=False))
    else:
        from api.commands.readings import local_zone

        print("\n".join(stats_text(stats, local_zone())))
    return 0


#: the counters of ``uchet stats`` as the text report names them
_COUNTERS = {
    "readings": "показаний",
    "duplicates": "дубликатов",
    "conflicts": "конфликтов",
    "meters": "счётчиков",
    "unbound_meters": "не привязано счётчиков",
}


def _local(iso: str, tz: ZoneInfo) -> str:
    from api.commands.readings import local_text

    return local_text(datetime.fromisoformat(iso), tz)


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "нет"


def stats_text(stats: dict[str, Any], tz: ZoneInfo) -> list[str]:
    """The lines of ``uchet stats`` without ``--json``; times local (``tz``)."""
    lines: list[str] = []
    for key, value in stats.items():
        if key in _COUNTERS:
            lines.append(f"{_COUNTERS[key]}: {value}")
        elif key == "quarantined":
            lines.append(f"в карантине: {_counts(value)}")
        elif key == "devices":
            devices = "; ".join(f"{src} — {_counts(states)}" for src, states in value.items())
            lines.append(f"устройства: {devices or 'нет'}")
        elif key == "sources":
            lines.append("источники:" + ("" if value else " нет"))
            for gateway, sources in value.items():
                for name, h in sources.items():
                    error = f", ошибка: {h['last_error']}" if h["last_error"] else ""
                    lines.append(
                        f"  {gateway}/{name}: {h['state']}, перезапусков {h['restarts']},"
                        f" обновлено {_local(h['updated_at'], tz)}{error}"
                    )
        elif key == "offline_devices":
            lines.append("недоступные устройства:" + ("" if value else " нет"))
            for d in value:
                error = f": {d['last_error']}" if d["last_error"] else ""
                lines.append(
                    f"  {d['source']} {d['device']} (шина {d['bus']})"
                    f" с {_local(d['since'], tz)}{error}"
                )
        else:
            lines.append(f"{key}: {value}")
    return lines
