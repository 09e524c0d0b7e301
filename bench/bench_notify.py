"""Messages per second from the notification outbox to a local SMTP server (issue 21).

Makes a fresh database on the test PostgreSQL, N accounts each with one meter without a
reading and a confirmed e-mail, enqueues the reading reminders (timed), then runs the sender
(``ingest.notify.run``, once) against an in-process aiosmtpd server (timed) and checks every
message arrived exactly once.

    .venv/bin/python bench/bench_notify.py --accounts 2000
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg

from adapters.notify.email import SmtpConfig, SmtpSender
from adapters.store.notify_prefs import set_contact
from api.runtime import migrate_url
from core.notify.backoff import RetryPolicy
from ingest.notify import enqueue_reading_reminders, run
from tests.notify.seed import seed
from tests.notify.servers import smtp_server
from tests.services import create_database, drop_database


async def main(accounts: int, batch: int) -> None:
    url = await create_database()
    try:
        await migrate_url(url)
        conn = await asyncpg.connect(url)
        try:
            await seed(conn, accounts=accounts, meters_each=1)
            for i in range(accounts):
                await set_contact(conn, f"ls{i}", "email", f"r{i}@example.ru", confirmed=True)
            t0 = time.perf_counter()
            n = await enqueue_reading_reminders(conn, "2026-03")
            enqueue_s = time.perf_counter() - t0
            with smtp_server() as (port, box):
                sender = SmtpSender(SmtpConfig(port=port))
                t1 = time.perf_counter()
                report = await run(conn, {"email": sender}, RetryPolicy(), once=True, limit=batch)
                send_s = time.perf_counter() - t1
                ids = box.ids()
        finally:
            await conn.close()
    finally:
        await drop_database(url)
    assert report.sent == n == accounts and len(set(ids)) == len(ids) == n, (report, len(ids))
    print(f"accounts {accounts}, batch {batch}")
    print(f"enqueue: {n} messages in {enqueue_s:.2f} s = {n / enqueue_s:,.0f} msg/s")
    print(f"send to local SMTP: {n} messages in {send_s:.2f} s = {n / send_s:,.0f} msg/s")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=100)
    a = ap.parse_args()
    asyncio.run(main(a.accounts, a.batch))
