"""Notifications end to end on the real PostgreSQL, a real local SMTP server (aiosmtpd) and a
real local webhook receiver: delivered once, opt-out respected, retries and dead letters,
and a sender stopped between claim and mark neither loses nor duplicates."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import asyncpg
import pytest

from adapters.notify.email import SmtpConfig, SmtpSender
from adapters.notify.webhook import WebhookConfig, WebhookSender
from adapters.store.notify_prefs import set_contact, set_pref
from adapters.store.outbox import claim, messages
from core.notify.kinds import DEBT, READING_WINDOW_OPEN
from ingest.notify import enqueue_debt_notices, enqueue_reading_reminders, run
from tests.notify.conftest import FAST
from tests.notify.seed import add_reading, seed
from tests.notify.servers import smtp_server, webhook_receiver

pytestmark = pytest.mark.postgres
SECRET = b"test-secret"


async def test_reading_reminders_by_email_once_and_opt_out(conn: asyncpg.Connection) -> None:
    await seed(conn, accounts=4)
    await add_reading(conn, "m0-0", datetime(2026, 3, 10, tzinfo=UTC))
    await add_reading(conn, "m0-1", datetime(2026, 3, 11, tzinfo=UTC))  # ls0: all read
    await add_reading(conn, "m1-0", datetime(2026, 3, 11, tzinfo=UTC))  # ls1: hot water missing
    await add_reading(conn, "m2-0", datetime(2026, 2, 11, tzinfo=UTC))  # ls2: last month only
    for i in range(4):
        await set_contact(conn, f"ls{i}", "email", f"r{i}@example.ru", confirmed=True)
    await set_pref(conn, "ls3", "email", READING_WINDOW_OPEN, enabled=False)  # opted out
    await set_contact(conn, "ls9", "email", "nobody@example.ru", confirmed=False)

    assert await enqueue_reading_reminders(conn, "2026-03") == 2  # ls1, ls2
    assert await enqueue_reading_reminders(conn, "2026-03") == 0  # never twice
    with smtp_server() as (port, box):
        sender = SmtpSender(SmtpConfig(port=port, sender="uchet@uk.example"))
        report = await run(conn, {"email": sender}, FAST, once=True)
    assert (report.sent, report.dead) == (2, 0)
    by_to = {str(m["To"]): m for m in box.messages}
    assert sorted(by_to) == ["r1@example.ru", "r2@example.ru"]
    m1 = by_to["r1@example.ru"]
    assert str(m1["Subject"]) == "Передайте показания счётчиков за март 2026"
    text = m1.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    html = m1.get_body(("html",)).get_content()  # type: ignore[attr-defined]
    assert "горячая вода: счётчик m1-1" in text and "m1-0" not in text
    assert "<li>горячая вода: счётчик m1-1</li>" in html
    assert str(m1["Message-ID"]).endswith("@uk.example>")
    rows = await messages(conn)
    assert {r["status"] for r in rows} == {"sent"} and len(rows) == 2


async def test_debt_by_webhook_signed(conn: asyncpg.Connection) -> None:
    await seed(conn, accounts=3, meters_each=0)
    for i in range(3):
        await set_contact(conn, f"ls{i}", "webhook", f"+7900000000{i}", confirmed=True)
    await set_pref(conn, "ls2", "webhook", DEBT, enabled=False)
    debts = {
        "ls0": (250_000, date(2026, 4, 10)),
        "ls1": (10_000, date(2026, 4, 10)),  # below the threshold
        "ls2": (900_000, date(2026, 4, 10)),  # opted out
    }
    assert await enqueue_debt_notices(conn, "2026-03", debts, 100_000) == 1
    assert await enqueue_debt_notices(conn, "2026-03", debts, 100_000) == 0
    with webhook_receiver(SECRET) as (url, rec):
        report = await run(conn, {"webhook": WebhookSender(WebhookConfig(url, SECRET))}, FAST,
                           once=True)  # fmt: skip
    assert report.sent == 1 and rec.bad_signatures == 0
    (body,) = rec.requests
    assert body["to"] == "+79000000000" and body["kind"] == DEBT
    assert "2500.00 ₽" in body["text"] and "С 11.05.2026 начисляются пени" in body["text"]


async def test_wrong_secret_then_failing_webhook_retried_then_dead(
    conn: asyncpg.Connection,
) -> None:
    await seed(conn, accounts=1, meters_each=1)
    await set_contact(conn, "ls0", "webhook", "+79001112233", confirmed=True)
    assert await enqueue_reading_reminders(conn, "2026-03") == 1
    with webhook_receiver(SECRET) as (url, rec):
        rec.fail_with = 503
        sender = WebhookSender(WebhookConfig(url, SECRET))
        report = await run(conn, {"webhook": sender}, FAST, once=True)
        assert (report.sent, report.retried, report.dead) == (0, 2, 1)
        (row,) = await messages(conn)
        assert row["status"] == "dead" and row["attempts"] == 3
        assert "HTTP 503" in row["last_error"]
        rec.fail_with = None
        again = await run(conn, {"webhook": sender}, FAST, once=True)
        assert again.claimed == 0 and rec.requests == []  # dead letters are not retried


async def test_restart_mid_send_neither_loses_nor_duplicates(conn: asyncpg.Connection) -> None:
    n = 12
    await seed(conn, accounts=n, meters_each=1)
    for i in range(n):
        await set_contact(conn, f"ls{i}", "webhook", f"+7{i:010d}", confirmed=True)
    assert await enqueue_reading_reminders(conn, "2026-03") == n
    # a sender that died right after claiming (kill -9): its rows stay 'sending'
    dead_claim = await claim(conn, 3, lease_seconds=0.5)
    assert len(dead_claim) == 3
    with webhook_receiver(SECRET) as (url, rec):
        rec.delay = 0.05
        cfg = WebhookConfig(url, SECRET)
        task = asyncio.create_task(
            run(conn, {"webhook": WebhookSender(cfg)}, FAST, limit=n, lease_seconds=0.5)
        )
        while len(rec.requests) < 4:  # cancelled mid-batch, between a claim and its mark
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        got_before = len(rec.requests)
        assert 4 <= got_before < n
        await asyncio.sleep(0.6)  # the leases of the dead sender (and the one cut off) end
        report = await run(conn, {"webhook": WebhookSender(cfg)}, FAST, once=True)
    assert report.dead == 0
    assert sorted(rec.delivered) == sorted(
        r["idem_key"] for r in await conn.fetch("SELECT idem_key FROM notify_outbox")
    )  # nothing lost
    # a copy reaches the receiver only for the one message cut off after sending, before
    # its mark; the receiver drops it by its idempotency key
    assert len(rec.requests) - len(rec.delivered) <= 1
    statuses = await conn.fetch("SELECT status, count(*) FROM notify_outbox GROUP BY status")
    assert [(r["status"], r["count"]) for r in statuses] == [("sent", n)]
