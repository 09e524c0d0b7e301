"""Bounces, rate limits per domain and concurrent sending, on the real PostgreSQL and a real
local SMTP server: a 5xx refusal of the address is recorded and stops every further send to
it until the resident changes it; a 4xx is retried; a DSN report read by
``uchet notify bounces`` does the same; a domain over its rate waits; several connections at
once still deliver each message once and lose none when the sender is cut off."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from adapters.notify.email import SmtpConfig, SmtpSender
from adapters.store.notify_prefs import bounces, contacts, set_contact
from adapters.store.outbox import claim, messages
from api.cli import main
from core.notify.backoff import RetryPolicy
from core.notify.kinds import DEBT
from core.notify.signing import idempotency_key
from ingest.notify import enqueue_debt_notices, enqueue_reading_reminders, run
from tests.notify.conftest import FAST
from tests.notify.seed import seed
from tests.notify.servers import smtp_server

pytestmark = pytest.mark.postgres
DEBTS = {
    "ls0": (500_000, datetime(2026, 4, 10).date()),
    "ls1": (500_000, datetime(2026, 4, 10).date()),
}


async def test_smtp_5xx_bounce_marks_the_address_and_stops_sends(conn: asyncpg.Connection) -> None:
    await seed(conn, accounts=3, meters_each=1)
    await set_contact(conn, "ls0", "email", "gone@example.ru", confirmed=True)
    await set_contact(conn, "ls1", "email", "busy@example.ru", confirmed=True)
    await set_contact(conn, "ls2", "email", "ok@example.ru", confirmed=True)
    assert await enqueue_reading_reminders(conn, "2026-03") == 3
    with smtp_server() as (port, box):
        box.refuse.add("gone@example.ru")
        box.busy.add("busy@example.ru")
        sender = SmtpSender(SmtpConfig(port=port), connections=2)
        one_pass = RetryPolicy(max_attempts=5, base_seconds=3600)
        report = await run(conn, {"email": sender}, one_pass, once=True, concurrency=2)
        assert (report.sent, report.bounced, report.dead, report.retried) == (1, 1, 1, 1)
        assert [str(m["To"]) for m in box.messages] == ["ok@example.ru"]
        rows = {r["address"]: r for r in await messages(conn)}
        gone, busy = rows["gone@example.ru"], rows["busy@example.ru"]
        assert gone["status"] == "dead" and gone["bounced"] and "550" in gone["last_error"]
        assert busy["status"] == "pending" and "450" in busy["last_error"] and not busy["bounced"]
        (b,) = await bounces(conn)
        assert (b["address"], b["source"], b["permanent"], b["status"]) == (
            "gone@example.ru", "smtp", True, "550",
        )  # fmt: skip
        assert b["message_id"] == gone["id"]
        c = (await contacts(conn, "ls0"))["email"]
        assert c.undeliverable_reason and "User unknown" in c.undeliverable_reason
        # nothing more is enqueued for the bounced address...
        assert await enqueue_debt_notices(conn, "2026-03", DEBTS, 0) == 1  # ls1 only
        # ...until the resident changes it
        await set_contact(conn, "ls0", "email", "new@example.ru", confirmed=True)
        assert (await contacts(conn, "ls0"))["email"].undeliverable_reason is None
        assert await enqueue_debt_notices(conn, "2026-04", DEBTS, 0) == 2


async def test_dsn_report_read_by_the_cli(
    conn: asyncpg.Connection, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    await seed(conn, accounts=2, meters_each=0)
    await set_contact(conn, "ls0", "email", "Gone@Example.ru", confirmed=True)
    await set_contact(conn, "ls1", "email", "late@example.ru", confirmed=True)
    assert await enqueue_debt_notices(conn, "2026-03", DEBTS, 0) == 2
    key = idempotency_key("ls0", DEBT, "2026-03", "email")
    sent_id = await conn.fetchval("SELECT id FROM notify_outbox WHERE idem_key = $1", key)
    await conn.execute("UPDATE notify_outbox SET status = 'sent' WHERE id = $1", sent_id)
    dsn = _dsn("gone@example.ru", "failed", "5.1.1", "smtp; 550 5.1.1 User unknown", key)
    delayed = _dsn("late@example.ru", "delayed", "4.4.1", "smtp; 451 timeout", "0" * 32)
    mbox = tmp_path / "bounces.mbox"
    head = b"From MAILER-DAEMON Mon Mar 2 10:00:00 2026\n"
    mbox.write_bytes(head + dsn + b"\n" + head + delayed + b"\n")
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    assert await asyncio.to_thread(main, ["notify", "bounces", str(mbox)]) == 0
    out = capsys.readouterr().out
    assert "gone@example.ru 5.1.1 permanent — smtp; 550 5.1.1 User unknown" in out
    assert "bounces 2, permanent 1, contacts marked undeliverable 1" in out
    assert (await contacts(conn, "ls0"))["email"].undeliverable_reason is not None
    assert (await contacts(conn, "ls1"))["email"].undeliverable_reason is None
    found = {b["address"]: b for b in await bounces(conn)}
    assert found["gone@example.ru"]["message_id"] == sent_id
    assert not found["late@example.ru"]["permanent"]
    assert await conn.fetchval("SELECT bounced FROM notify_outbox WHERE id = $1", sent_id)
    bad = tmp_path / "bad.eml"
    bad.write_bytes(_dsn("", "failed", "5.0.0", "x", key))
    assert await asyncio.to_thread(main, ["notify", "bounces", str(bad)]) == 2
    assert (
        "bad.eml: message 1: delivery-status block without Final-Recipient"
        in capsys.readouterr().err
    )


def _dsn(to: str, action: str, status: str, diagnostic: str, key: str) -> bytes:
    return f"""From: MAILER-DAEMON@mx.example.ru
To: uchet@uk.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system.
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.ru

Final-Recipient: rfc822; {to}
Action: {action}
Status: {status}
Diagnostic-Code: {diagnostic}

--B
Content-Type: text/rfc822-headers

Message-ID: <{key}@uk.example>
Subject: =?utf-8?q?x?=

--B--
""".replace("\n", "\r\n").encode()


async def test_domain_rate_limit_defers_the_rest(conn: asyncpg.Connection) -> None:
    n = 5
    await seed(conn, accounts=n + 1, meters_each=1)
    for i in range(n):
        await set_contact(conn, f"ls{i}", "email", f"r{i}@big.example", confirmed=True)
    await set_contact(conn, f"ls{n}", "email", "x@small.example", confirmed=True)
    assert await enqueue_reading_reminders(conn, "2026-03") == n + 1
    with smtp_server() as (port, box):
        sender = SmtpSender(SmtpConfig(port=port))
        report = await run(conn, {"email": sender}, FAST, once=True, domain_per_minute=2)
    assert (report.sent, report.deferred) == (3, n - 2)
    got = sorted(str(m["To"]).partition("@")[2] for m in box.messages)
    assert got == ["big.example", "big.example", "small.example"]
    waiting = await conn.fetch(
        "SELECT attempts, next_at > now() + interval '50 seconds' AS later FROM notify_outbox"
        " WHERE status = 'pending'"
    )
    assert len(waiting) == n - 2 and all(r["later"] and r["attempts"] == 0 for r in waiting)


async def test_concurrent_sender_cut_off_neither_loses_nor_duplicates(
    conn: asyncpg.Connection,
) -> None:
    n, k = 40, 4
    await seed(conn, accounts=n, meters_each=1)
    for i in range(n):
        await set_contact(conn, f"ls{i}", "email", f"r{i}@d{i % 3}.example", confirmed=True)
    assert await enqueue_reading_reminders(conn, "2026-03") == n
    assert len(await claim(conn, 5, lease_seconds=0.5)) == 5  # a sender killed after its claim
    with smtp_server() as (port, box):
        task = asyncio.create_task(
            run(conn, {"email": SmtpSender(SmtpConfig(port=port), k)}, FAST, limit=n,
                lease_seconds=0.5, concurrency=k)
        )  # fmt: skip
        while len(box.messages) < 10:
            await asyncio.sleep(0.002)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert 10 <= len(box.messages) < n
        await asyncio.sleep(0.6)  # the leases end
        again = await run(conn, {"email": SmtpSender(SmtpConfig(port=port), k)}, FAST,
                          once=True, concurrency=k)  # fmt: skip
    assert again.dead == 0
    ids = box.ids()
    keys = {r["idem_key"] for r in await conn.fetch("SELECT idem_key FROM notify_outbox")}
    assert {i.strip("<>").partition("@")[0] for i in ids} == keys  # nothing lost
    assert len(ids) - len(set(ids)) <= k  # a copy only of what was in flight at the cut
    statuses = await conn.fetch("SELECT status, count(*) FROM notify_outbox GROUP BY status")
    assert [(r["status"], r["count"]) for r in statuses] == [("sent", n)]
    assert datetime.now(UTC)  # the clock is not mocked anywhere here
