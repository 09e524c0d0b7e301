"""``uchet gateway``: the configured sources into the store until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import logging


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "gateway", help="запустить настроенные источники данных с записью в хранилище"
    )
    p.add_argument("--migrate", action="store_true", help="сначала выполнить `uchet migrate`")
    p.set_defaults(func=cmd_gateway)


def cmd_gateway(args: argparse.Namespace) -> int:
    from api.runtime import database_url, migrate_url, run_until_signal, settings, settle_heap
    from ingest.gateway import run_gateway

    logging.getLogger().setLevel(min(logging.getLogger().level, logging.INFO))
    s = settings()
    url = database_url(s)
    if args.migrate:
        asyncio.run(migrate_url(url))
    settle_heap()
    run_until_signal(lambda stop: run_gateway(s, url, stop))
    return 0
