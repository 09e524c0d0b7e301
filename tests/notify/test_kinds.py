"""Every kind delivered through a real local SMTP server (aiosmtpd) and a real local webhook
receiver, on the real PostgreSQL: window closes, reading received (the submission hook and
the catch-up scan, once per reading), ЕПД ready with its link, operator alerts (house balance,
device offline) to the operators' addresses, and the e-mail confirmation — the only message
an unconfirmed address gets."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from adapters.notify.email import SmtpConfig, SmtpSender
from adapters.notify.webhook import WebhookConfig, WebhookSender
from adapters.store.notify_prefs import set_contact, set_pref
from adapters.store.outbox import messages
from core.codes import Flag
from core.notify.kinds import (
    DEVICE_OFFLINE,
    EMAIL_CONFIRM,
    HOUSE_BALANCE,
    OPERATOR_ACCOUNT,
    READING_RECEIVED,
    READING_WINDOW_CLOSES,
)
from ingest.notify import (
    OperatorTargets,
    after_submission,
    enqueue_confirmation,
    enqueue_epd_ready,
    enqueue_operator_alerts,
    enqueue_reading_reminders,
    enqueue_received_at,
    enqueue_received_since,
    run,
)
from tests.notify.conftest import FAST
from tests.notify.seed import add_reading, seed
from tests.notify.servers import Mailbox, smtp_server, webhook_receiver

pytestmark = pytest.mark.postgres
SECRET = b"test-secret"


async def _send_email(conn: asyncpg.Connection) -> Mailbox:
    with smtp_server() as (port, box):
        sender = SmtpSender(SmtpConfig(port=port, sender="uchet@uk.example"), connections=3)
        report = await run(conn, {"email": sender}, FAST, once=True, concurrency=3)
    assert report.dead == 0, report.errors
    return box


def _parts(m: object) -> tuple[str, str]:
    text = m.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    html = m.get_body(("html",)).get_content()  # type: ignore[attr-defined]
    return text, html


async def test_window_closes_only_for_meters_still_unread(conn: asyncpg.Connection) -> None:
    await seed(conn, accounts=2)
    await add_reading(conn, "m0-0", datetime(2026, 3, 20, tzinfo=UTC))
    await add_reading(conn, "m0-1", datetime(2026, 3, 20, tzinfo=UTC))
    await add_reading(conn, "m1-0", datetime(2026, 3, 20, tzinfo=UTC))
    for i in range(2):
        await set_contact(conn, f"ls{i}", "email", f"r{i}@example.ru", confirmed=True)
    kw = {"first_day": 20, "last_day": 25, "kind": READING_WINDOW_CLOSES}
    assert await enqueue_reading_reminders(conn, "2026-03", **kw) == 1  # type: ignore[arg-type]
    assert await enqueue_reading_reminders(conn, "2026-03", **kw) == 0  # type: ignore[arg-type]
    box = await _send_email(conn)
    (m,) = box.messages
    assert str(m["To"]) == "r1@example.ru"
    assert str(m["Subject"]) == "Приём показаний за март 2026 закрывается 25.03.2026"
    text, html = _parts(m)
    assert "горячая вода: счётчик m1-1" in text and "m1-0" not in text
    assert "<li>горячая вода: счётчик m1-1</li>" in html


async def test_reading_received_by_hook_and_catch_up_once_each(
    conn: asyncpg.Connection, db_url: str
) -> None:
    await seed(conn, accounts=3, meters_each=1)
    await set_contact(conn, "ls0", "email", "r0@example.ru", confirmed=True)
    await set_contact(conn, "ls1", "webhook", "+79000000001", confirmed=True)
    await set_contact(conn, "ls2", "email", "r2@example.ru", confirmed=True)
    await set_pref(conn, "ls2", "email", READING_RECEIVED, enabled=False)  # opted out
    ts = datetime.now(UTC).replace(microsecond=123456) - timedelta(minutes=5)
    for i in range(3):
        await conn.execute(
            """INSERT INTO readings (meter_id, ts, value, flags)
               SELECT id, $2, 123.45, $3 FROM meters WHERE external_id = $1""",
            f"m{i}-0", ts, int(Flag.MANUAL),
        )  # fmt: skip
    ids = {
        r["external_id"]: r["id"] for r in await conn.fetch("SELECT id, external_id FROM meters")
    }
    # the submission's hook told ls0 at once (in the background, over the pool)
    pool = await asyncpg.create_pool(db_url, min_size=1, max_size=2)
    try:
        after_submission(pool, [(ids["m0-0"], ts)], "Europe/Moscow")
        for _ in range(500):  # up to 10 s on a loaded machine
            if await conn.fetchval("SELECT count(*) FROM notify_outbox"):
                break
            await asyncio.sleep(0.02)
    finally:
        await asyncio.sleep(0.05)
        await pool.close()
    assert await enqueue_received_at(conn, [(ids["m0-0"], ts)]) == 0  # never twice
    # the catch-up scan finds ls1's (its hook never ran), skips ls0's and the opted-out ls2
    assert await enqueue_received_since(conn, ts - timedelta(minutes=1)) == 1
    assert await enqueue_received_since(conn, ts - timedelta(minutes=1)) == 0
    with webhook_receiver(SECRET) as (url, rec):
        hook = WebhookSender(WebhookConfig(url, SECRET))
        await run(conn, {"webhook": hook}, FAST, once=True)
    box = await _send_email(conn)
    (m,) = box.messages
    assert str(m["To"]) == "r0@example.ru"
    assert str(m["Subject"]) == "Показание принято: холодная вода, 123,45 м³"
    text, _ = _parts(m)
    local = ts.astimezone(ZoneInfo("Europe/Moscow"))
    assert f"на {local:%d.%m.%Y %H:%M}" in text and "счётчика m0-0" in text
    (body,) = rec.requests
    assert body["to"] == "+79000000001" and body["kind"] == READING_RECEIVED
    assert "123,45 м³" in body["text"]


async def test_epd_ready_with_its_link(conn: asyncpg.Connection) -> None:
    await seed(conn, accounts=3, meters_each=0)
    for i in range(3):
        await set_contact(conn, f"ls{i}", "email", f"r{i}@example.ru", confirmed=True)
    run_id = await conn.fetchval(
        """INSERT INTO billing_runs (period, started_at, premises, meters, lines, total, totals,
               load_s, compute_s, write_s)
           VALUES ('2026-03-01', now(), 2, 0, 3, 0, '{}', 0, 0, 0) RETURNING id"""
    )
    for premise, service, amount in (("p0", "cold_water", "100.50"), ("p0", "heating", "2000"),
                                     ("p1", "cold_water", "10.05")):  # fmt: skip
        await conn.execute(
            """INSERT INTO accruals (period, premise_id, service, method, volume, tariff,
                   coefficient, amount, explanation, run_id)
               VALUES ('2026-03-01', $1, $2, 'meter', 1, 1, 1, $3::numeric, '', $4)""",
            premise, service, amount, run_id,
        )  # fmt: skip
    assert await enqueue_epd_ready(conn, "2026-03", "https://lk.uk.example/") == 2  # ls2: none
    assert await enqueue_epd_ready(conn, "2026-03", "https://lk.uk.example/") == 0
    box = await _send_email(conn)
    by_to = {str(m["To"]): m for m in box.messages}
    assert sorted(by_to) == ["r0@example.ru", "r1@example.ru"]
    text, html = _parts(by_to["r0@example.ru"])
    assert str(by_to["r0@example.ru"]["Subject"]) == "Готов ЕПД за март 2026"
    assert "Начислено за месяц: 2100.50 ₽" in text
    assert "https://lk.uk.example/cabinet/epd/2026-03.pdf" in text
    assert '<a href="https://lk.uk.example/cabinet/epd/2026-03.pdf">' in html


async def test_operator_alerts_to_operators_email_and_webhook(conn: asyncpg.Connection) -> None:
    await seed(conn, accounts=1, meters_each=0)
    await conn.execute("INSERT INTO houses (id, address) VALUES ('h2', 'ул. Мира, 2')")
    vee = await conn.fetchval(
        """INSERT INTO vee_runs (period, started_at, meters, readings, off_grid, anomalies,
               estimates, load_s, compute_s, write_s)
           VALUES ('2026-03-01', now(), 0, 0, 0, 0, 0, 0, 0, 0) RETURNING id"""
    )
    for house, premises in (("h1", 70.0), ("h2", 97.0)):  # h1 loses 30 %, h2 3 %
        for d in range(1, 6):
            await conn.execute(
                """INSERT INTO vee_house_balance (period, house_id, service, day, house_volume,
                       premises_volume, ratio, run_id, premises_with_data, premises_total)
                   VALUES ('2026-03-01', $1, 'cold_water', $2, 100, $3, 0, $4, 4, 4)""",
                house, datetime(2026, 3, d).date(), premises, vee,
            )  # fmt: skip
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    for device, hours in (("dev-1", 30), ("dev-2", 2)):  # dev-2: offline, but not for long
        await conn.execute(
            """INSERT INTO device_health (source, device, bus, state, since,
                   consecutive_failures, last_error, requests, gateway)
               VALUES ('modbus', $1, '10.0.0.5:502', 'offline', $2, 9, 'timeout', 10, 'gw1')""",
            device, now - timedelta(hours=hours),
        )  # fmt: skip
    targets = OperatorTargets(email="ops@uk.example", chat="ops-chat")
    kw = {"balance_percent": 10.0, "offline_hours": 24, "now": now}
    assert await enqueue_operator_alerts(conn, targets, **kw) == 4  # type: ignore[arg-type]
    assert await enqueue_operator_alerts(conn, targets, **kw) == 0  # type: ignore[arg-type]
    with webhook_receiver(SECRET) as (url, rec):
        await run(conn, {"webhook": WebhookSender(WebhookConfig(url, SECRET))}, FAST, once=True)
    box = await _send_email(conn)
    subjects = sorted(str(m["Subject"]) for m in box.messages)
    assert subjects == [
        "Небаланс 30 %: ул. Ленина, 1, холодная вода",
        "Устройство dev-1 не на связи 30 ч",
    ]
    assert {str(m["To"]) for m in box.messages} == {"ops@uk.example"}
    assert sorted(b["kind"] for b in rec.requests) == [DEVICE_OFFLINE, HOUSE_BALANCE]
    assert {b["to"] for b in rec.requests} == {"ops-chat"}
    balance = next(m for m in box.messages if "Небаланс" in str(m["Subject"]))
    text, _ = _parts(balance)
    assert "показал 500 м³, сумма квартир — 350 м³; небаланс 30 %" in text
    rows = await messages(conn)
    assert {r["account"] for r in rows} == {OPERATOR_ACCOUNT}


async def test_unconfirmed_email_gets_only_the_confirmation(conn: asyncpg.Connection) -> None:
    await seed(conn, accounts=1, meters_each=1)
    await set_contact(conn, "ls0", "email", "new@example.ru", confirmed=False)
    assert await enqueue_reading_reminders(conn, "2026-03") == 0
    link = "https://lk.uk.example/cabinet/notifications/confirm?token=abc.def0123456789"
    expires = datetime(2026, 3, 12, 18, 30)
    assert await enqueue_confirmation(conn, "ls0", "new@example.ru", link, expires) == 1
    box = await _send_email(conn)
    (m,) = box.messages
    assert (
        str(m["Subject"]) == "Подтвердите адрес для уведомлений"
        and m["X-Uchet-Kind"] == EMAIL_CONFIRM
    )
    text, html = _parts(m)
    assert link in text and "до 12.03.2026 18:30" in text
    assert f'<a href="{link.replace("&", "&amp;")}">Подтвердить адрес</a>' in html
    row = (await messages(conn))[0]
    assert json.loads(json.dumps(row, default=str))["kind"] == EMAIL_CONFIRM
