"""A sender whose lease ran out (slow server, long queue) must not undo or repeat the work of
the sender that reclaimed its messages (review finding 3 of issue 21): real PostgreSQL, two
connections, a real local webhook receiver."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from adapters.notify.webhook import WebhookConfig, WebhookSender
from adapters.store.notify_prefs import set_contact
from adapters.store.outbox import Message, claim, mark_failed, mark_sent, release, renew
from ingest.notify import enqueue_reading_reminders, send_batch
from tests.notify.conftest import FAST
from tests.notify.seed import seed
from tests.notify.servers import webhook_receiver

pytestmark = pytest.mark.postgres
SECRET = b"test-secret"


async def _queue(conn: asyncpg.Connection, n: int) -> None:
    await seed(conn, accounts=n, meters_each=1)
    for i in range(n):
        await set_contact(conn, f"ls{i}", "webhook", f"+7{i:010d}", confirmed=True)
    assert await enqueue_reading_reminders(conn, "2026-03") == n


async def _state(conn: asyncpg.Connection, m: Message) -> tuple[str, int]:
    row = await conn.fetchrow("SELECT status, lease FROM notify_outbox WHERE id = $1", m.id)
    assert row is not None
    return row["status"], row["lease"]


async def test_late_marks_of_a_lost_claim_change_nothing(
    conn: asyncpg.Connection, db_url: str
) -> None:
    await _queue(conn, 1)
    (a,) = await claim(conn, 10, lease_seconds=0.2)  # sender A, then stuck
    await asyncio.sleep(0.3)
    other = await asyncpg.connect(db_url)
    try:
        (b,) = await claim(other, 10, lease_seconds=60)  # sender B reclaims it
    finally:
        await other.close()
    assert b.id == a.id and b.lease != a.lease and b.attempts == a.attempts + 1
    # A wakes up: its failure must not put B's in-flight message back in the queue
    assert not await mark_failed(conn, a, "timeout", retry_at=None)
    assert not await mark_sent(conn, a)
    assert not await renew(conn, a, 60)
    await release(conn, [a])
    assert await _state(conn, b) == ("sending", b.lease)
    assert await mark_sent(conn, b)
    assert (await _state(conn, b))[0] == "sent"


class Gated:
    """A real webhook sender whose first send waits for the test's go-ahead."""

    def __init__(self, inner: WebhookSender) -> None:
        self.inner = inner
        self.started = asyncio.Event()
        self.go = asyncio.Event()
        self.sent: list[int] = []

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def send(self, message: Message) -> None:
        if not self.started.is_set():
            self.started.set()
            await self.go.wait()
        await self.inner.send(message)
        self.sent.append(message.id)


async def test_messages_reclaimed_while_queued_are_not_sent_again(
    conn: asyncpg.Connection, db_url: str
) -> None:
    n = 4
    await _queue(conn, n)
    with webhook_receiver(SECRET) as (url, rec):
        slow = Gated(WebhookSender(WebhookConfig(url, SECRET)))
        await slow.open()
        a = asyncio.create_task(
            send_batch(conn, {"webhook": slow}, FAST, limit=n, lease_seconds=0.3, concurrency=1)
        )
        await slow.started.wait()  # A sends its first; the other three queue behind it
        await asyncio.sleep(0.5)  # every lease of A ran out
        other = await asyncpg.connect(db_url)
        try:
            b_sender = WebhookSender(WebhookConfig(url, SECRET))
            await b_sender.open()
            b = await send_batch(other, {"webhook": b_sender}, FAST, limit=n, lease_seconds=60)
            await b_sender.close()
            slow.go.set()
            report_a = await a
        finally:
            await other.close()
        await slow.close()
    # B reclaimed and sent all four (the first one was still in A's hands: a copy, deduped by
    # the receiver's idempotency key); A sent only the one it had started, skipped the rest
    assert (b.claimed, b.sent) == (n, n)
    assert len(slow.sent) == 1 and (report_a.sent, report_a.lost) == (1, n - 1)
    assert len(rec.requests) == n + 1 and len(rec.delivered) == n
    rows = await conn.fetch("SELECT status, attempts FROM notify_outbox")
    assert [(r["status"], r["attempts"]) for r in rows] == [("sent", 2)] * n
