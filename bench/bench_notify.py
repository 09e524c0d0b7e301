"""Messages per second from the notification outbox to a local SMTP server (issue 21).

Makes a fresh database on the test PostgreSQL, N accounts each with one meter without a
reading and a confirmed e-mail, enqueues the reading reminders (timed), then runs the sender
(``ingest.notify.run``, once) against an in-process aiosmtpd server (timed) and checks every
message arrived exactly once. ``--connections``: SMTP connections (messages in flight) at once;
``--domains``: recipients spread over this many domains; ``--server process``: the SMTP server
(a sink keeping the Message-IDs) in a process of its own, so the sender's figure is not held
back by a server sharing its interpreter (the default, ``thread``, is the older setting).

    .venv/bin/python bench/bench_notify.py --accounts 2000 --connections 4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from adapters.notify.email import SmtpConfig, SmtpSender
from adapters.store.notify_prefs import set_contact
from api.runtime import migrate_url
from core.notify.backoff import RetryPolicy
from ingest.notify import enqueue_reading_reminders, run
from tests.notify.seed import seed
from tests.notify.servers import free_port, smtp_server
from tests.services import create_database, drop_database


class _Sink:
    def __init__(self) -> None:
        self.ids: list[str] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        found = _MESSAGE_ID.search(envelope.content)
        self.ids.append(found.group(1).decode() if found else "")
        return "250 OK"


_MESSAGE_ID = re.compile(rb"(?im)^Message-ID:\s*(<[^>]+>)")


def serve(port: int) -> None:
    """The sink server: prints READY, then the JSON list of Message-IDs when stdin closes."""
    from aiosmtpd.controller import Controller

    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    print("READY", flush=True)
    sys.stdin.read()
    controller.stop()
    print(json.dumps(sink.ids), flush=True)


@contextmanager
def process_server() -> Iterator[tuple[int, list[str]]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().strip() == "READY"
    ids: list[str] = []
    try:
        yield port, ids
    finally:
        out, _ = proc.communicate("", timeout=60)
        ids += json.loads(out.strip().splitlines()[-1])


@contextmanager
def thread_server() -> Iterator[tuple[int, list[str]]]:
    ids: list[str] = []
    with smtp_server() as (port, box):
        yield port, ids
        ids += box.ids()


async def main(accounts: int, batch: int, connections: int, domains: int, where: str) -> None:
    url = await create_database()
    try:
        await migrate_url(url)
        conn = await asyncpg.connect(url)
        try:
            await seed(conn, accounts=accounts, meters_each=1)
            for i in range(accounts):
                address = f"r{i}@d{i % domains}.example.ru"
                await set_contact(conn, f"ls{i}", "email", address, confirmed=True)
            t0 = time.perf_counter()
            n = await enqueue_reading_reminders(conn, "2026-03")
            enqueue_s = time.perf_counter() - t0
            with (process_server if where == "process" else thread_server)() as (port, ids):
                sender = SmtpSender(SmtpConfig(port=port), connections)
                t1 = time.perf_counter()
                report = await run(
                    conn, {"email": sender}, RetryPolicy(), once=True, limit=batch,
                    concurrency=connections,
                )  # fmt: skip
                send_s = time.perf_counter() - t1
        finally:
            await conn.close()
    finally:
        await drop_database(url)
    assert report.sent == n == accounts and len(set(ids)) == len(ids) == n, (report, len(ids))
    print(f"accounts {accounts}, batch {batch}, connections {connections}, domains {domains}, "
          f"server in a {where}")  # fmt: skip
    print(f"enqueue: {n} messages in {enqueue_s:.2f} s = {n / enqueue_s:,.0f} msg/s")
    print(f"send to local SMTP: {n} messages in {send_s:.2f} s = {n / send_s:,.0f} msg/s")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--domains", type=int, default=1)
    ap.add_argument("--server", choices=("thread", "process"), default="thread")
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.serve:
        serve(a.serve)
    else:
        asyncio.run(main(a.accounts, a.batch, a.connections, a.domains, a.server))
