"""The notification sender loop and the enqueuers of reminders (issue 21).

Never twice, never lost: a message is claimed (``sending``, with a lease), sent, and marked
``sent`` at once, one by one. A sender killed between claim and mark leaves its rows
``sending``; when the lease runs out another sender claims them and sends them again with the
same idempotency key (webhook header, SMTP Message-ID), by which the receiver drops the copy
of one that had gone out. A sender cancelled gives back what it had not tried yet.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from adapters.notify.base import Sender, SendFailed
from adapters.store.connections import Connection
from adapters.store.outbox import (
    Message,
    claim,
    enqueue,
    mark_failed,
    mark_sent,
    meters_without_reading,
)
from adapters.store.outbox import release as release_claims
from core.notify.backoff import RetryPolicy
from core.notify.kinds import DEBT, READING_WINDOW_OPEN
from core.notify.reminders import debt_params, missing_by_account, window
from core.periods import month_bounds, parse_period

log = logging.getLogger(__name__)


@dataclass(slots=True)
class BatchReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)


async def send_batch(
    conn: Connection,
    senders: Mapping[str, Sender],
    policy: RetryPolicy,
    *,
    limit: int = 100,
    lease_seconds: float = 300.0,
) -> BatchReport:
    """Claims up to ``limit`` due messages of the channels in ``senders``, sends and marks
    each. A message of a channel without a sender is not claimed."""
    report = BatchReport()
    batch: list[Message] = []
    for channel in senders:
        batch += await claim(conn, limit - len(batch), lease_seconds, channel)
    report.claimed = len(batch)
    todo = {m.id for m in batch}
    try:
        for m in batch:
            try:
                await senders[m.channel].send(m)
            except SendFailed as exc:
                todo.discard(m.id)
                dead = exc.permanent or policy.is_dead(m.attempts)
                retry_at = None if dead else _now() + timedelta(seconds=policy.delay(m.attempts))
                await mark_failed(conn, m.id, str(exc), retry_at)
                report.dead += dead
                report.retried += not dead
                report.errors.append(f"{m.id} {m.channel} {m.address}: {exc}")
                log.warning("notification %s to %s failed: %s", m.id, m.address, exc)
                continue
            todo.discard(m.id)  # from here a crash re-sends it: the receiver dedupes by key
            await mark_sent(conn, m.id)
            report.sent += 1
    except asyncio.CancelledError:
        # what was not tried goes back at once; the one being sent waits for its lease
        todo.discard(next((m.id for m in batch if m.id in todo), -1))
        if todo:
            await asyncio.shield(release_claims(conn, sorted(todo)))
        raise
    return report


def _now() -> datetime:
    return datetime.now(UTC)


async def run(
    conn: Connection,
    senders: Mapping[str, Sender],
    policy: RetryPolicy,
    *,
    once: bool = False,
    limit: int = 100,
    lease_seconds: float = 300.0,
    idle_seconds: float = 5.0,
) -> BatchReport:
    """Sends until cancelled (or, ``once``, until nothing is due). Returns the totals."""
    total = BatchReport()
    for s in senders.values():
        await s.open()
    try:
        while True:
            r = await send_batch(conn, senders, policy, limit=limit, lease_seconds=lease_seconds)
            total.claimed += r.claimed
            total.sent += r.sent
            total.retried += r.retried
            total.dead += r.dead
            total.errors += r.errors
            if r.claimed == 0:
                if once:
                    return total
                await asyncio.sleep(idle_seconds)
    finally:
        for s in senders.values():
            await s.close()


async def enqueue_reading_reminders(
    conn: Connection,
    period: str,
    *,
    timezone: str = "Europe/Moscow",
    first_day: int = 23,
    last_day: int = 25,
) -> int:
    """One «передайте показания» per account having a meter without a reading in ``period``
    (so far); each account once per period, however often this runs."""
    year, month = parse_period(period)
    start, end = month_bounds(year, month, timezone)
    window_from, window_to = window(period, first_day, last_day)
    written = 0
    async with conn.transaction():
        rows = await meters_without_reading(conn, start, end)
        for account, meters in missing_by_account(rows).items():
            params = {
                "period": period,
                "window_from": window_from,
                "window_to": window_to,
                "meters": meters,
            }
            written += await enqueue(conn, account, READING_WINDOW_OPEN, period, params)
    return written


async def enqueue_debt_notices(
    conn: Connection,
    period: str,
    debts: Mapping[str, tuple[int, date]],
    threshold_kopecks: int,
) -> int:
    """One debt notice per account whose debt (kopecks, oldest unpaid due date) is above the
    threshold, once per period."""
    written = 0
    async with conn.transaction():
        for account, params in debt_params(period, debts, threshold_kopecks).items():
            written += await enqueue(conn, account, DEBT, period, params)
    return written
