"""``uchet migrate`` and ``uchet stats``."""

from __future__ import annotations

import argparse
import asyncio
import json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("migrate", help="create or upgrade the schema (idempotent)")
    p.set_defaults(func=cmd_migrate)
    p = sub.add_parser("stats", help="ingestion counters from the store")
    p.add_argument("--json", action="store_true", help="one JSON object (the stable format)")
    p.set_defaults(func=cmd_stats)


def cmd_migrate(args: argparse.Namespace) -> int:
    from api.runtime import database_url, migrate_url, settings

    report = asyncio.run(migrate_url(database_url(settings())))
    applied = ", ".join(report.applied) if report.applied else "nothing to apply"
    print(f"schema version {report.version}: {applied}")
    print(f"readings: {report.physical}")
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
        for key, value in stats.items():
            print(f"{key}: {value}")
    return 0
