"""The notification pages in a real browser (headless Chromium): the resident's kind × channel
choices and e-mail, confirmed through the link of the message in the outbox; the operator's
log of what was sent, retried, dead-lettered and bounced (a real local SMTP server refusing
one address, a webhook answering 503), with filters and paging. Screenshots go to
artifacts/screenshots."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any, TypeVar

import asyncpg
import pytest

from adapters.notify.email import SmtpConfig, SmtpSender
from adapters.notify.webhook import WebhookConfig, WebhookSender
from adapters.store.notify_prefs import set_contact, set_pref
from adapters.store.outbox import enqueue_to
from core.notify.backoff import RetryPolicy
from core.notify.kinds import DEBT, EMAIL_CONFIRM
from ingest.notify import enqueue_debt_notices, run
from tests.api.conftest import ALICE, BOB
from tests.api.server import api_server
from tests.notify.servers import smtp_server, webhook_receiver
from tests.web.conftest import Site, _need_browser, shot
from tests.web.seed import seed
from tests.web.test_operator import log_in as operator_log_in
from tests.web.test_resident import log_in, script_errors

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
T = TypeVar("T")
PUBLIC_URL = "https://uchet.example"  # the links of the messages point there, never to Host


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    """The site of tests.web.conftest with the public URL of the links set."""
    _need_browser()
    with api_server(UCHET_WEB_SECURE_COOKIE="auto", UCHET_NOTIFY_PUBLIC_URL=PUBLIC_URL) as server:
        seeded = asyncio.run(seed(server.db_url))
        yield Site(server, seeded)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """asyncio.run beside Playwright's sync API (which keeps a loop in this thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


async def _confirm_link(url: str, address: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        params = await conn.fetchval(
            "SELECT params FROM notify_outbox WHERE kind = $1 AND address = $2"
            " ORDER BY id DESC LIMIT 1",
            EMAIL_CONFIRM, address,
        )  # fmt: skip
    finally:
        await conn.close()
    return str(json.loads(params)["link"])


def test_resident_chooses_kinds_and_confirms_the_email(page, site: Site) -> None:
    log_in(page, ALICE, next_path="/cabinet/notifications")
    grid = page.locator("#choices tbody tr")
    assert grid.count() == 5
    assert page.locator("#choices input[type=checkbox]:checked").count() == 10
    assert "не указан" in page.locator("#email-state").inner_text()

    page.get_by_label("Адрес e-mail").fill("alice")
    page.get_by_role("button", name="Сохранить").click()
    # the browser's own check of type=email stops a plain word; the server's, a near miss
    assert page.url.endswith("/cabinet/notifications") and not page.locator("#flash").count()
    page.get_by_label("Адрес e-mail").fill("alice@mail")
    page.get_by_role("button", name="Сохранить").click()
    page.wait_for_selector("#flash")
    assert "Адрес e-mail указан неверно" in page.get_by_role("alert").inner_text()

    page.get_by_label("Адрес e-mail").fill("alice@example.ru")
    page.get_by_label("задолженность выше порога: e-mail").uncheck()
    page.get_by_label("готов новый ЕПД (платёжный документ): SMS / мессенджер").uncheck()
    page.get_by_role("button", name="Сохранить").click()
    page.wait_for_selector("#flash")
    assert "отправлено письмо со ссылкой" in page.get_by_role("status").inner_text()
    assert "ждёт подтверждения" in page.locator("#email-state").inner_text()
    assert not page.locator("#email-debt").is_checked()
    assert not page.locator("#webhook-epd_ready").is_checked()
    assert page.locator("#choices input[type=checkbox]:checked").count() == 8
    assert page.locator("#resend").count() == 1
    shot(page, "notify-prefs-pending")

    sent = _run(_confirm_link(site.server.db_url, "alice@example.ru"))
    assert sent.startswith(PUBLIC_URL + "/cabinet/notifications/confirm?token=")
    link = site.url + sent.removeprefix(PUBLIC_URL)
    # a tampered token (its last hex digit changed: "00" in place of the last two was the
    # same token once in 256 runs)
    page.goto(link[:-1] + ("0" if link[-1] != "0" else "1"))
    assert "Ссылка недействительна" in page.get_by_role("alert").inner_text()
    assert page.get_by_role("button", name="Подтвердить адрес").count() == 0
    page.goto(link)  # what a mail scanner does: opening the link confirms nothing
    assert page.locator("#confirm-address").inner_text() == "alice@example.ru"
    shot(page, "notify-confirm")
    page.goto("/cabinet/notifications")
    assert "ждёт подтверждения" in page.locator("#email-state").inner_text()
    page.goto(link)
    page.get_by_role("button", name="Подтвердить адрес").click()
    page.wait_for_url(re.compile(r"/cabinet/notifications$"))
    assert "alice@example.ru подтверждён" in page.get_by_role("status").inner_text()
    assert "подтверждён" in page.locator("#email-state").inner_text()
    assert page.locator("#resend").count() == 0
    assert not page.locator("#email-debt").is_checked()
    shot(page, "notify-prefs-confirmed")
    assert script_errors(page) == []


async def _fill_log(url: str) -> None:
    """Debt notices to Alice (e-mail, refused: a bounce), to Bob (e-mail delivered; webhook
    503 until dead-lettered) and 55 confirmations waiting, for paging."""
    conn = await asyncpg.connect(url)
    try:
        await set_contact(conn, ALICE[0], "email", "gone@example.ru", confirmed=True)
        await set_pref(conn, ALICE[0], "email", DEBT, enabled=True)  # whatever she chose
        await set_contact(conn, BOB[0], "email", "bob@example.ru", confirmed=True)
        await set_contact(conn, BOB[0], "webhook", "+79001234567", confirmed=True)
        due = date(2026, 4, 10)
        debts = {ALICE[0]: (300_000, due), BOB[0]: (150_000, due)}
        assert await enqueue_debt_notices(conn, "2026-03", debts, 100_000) == 3
        fast = RetryPolicy(max_attempts=2, base_seconds=0, cap_seconds=0)
        with smtp_server() as (port, box), webhook_receiver(b"s") as (hook, rec):
            box.refuse.add("gone@example.ru")
            rec.fail_with = 503
            senders = {
                "email": SmtpSender(SmtpConfig(port=port)),
                "webhook": WebhookSender(WebhookConfig(hook, b"s")),
            }
            report = await run(conn, senders, fast, once=True)  # type: ignore[arg-type]
        # sent: Bob's notice and Alice's confirmation left by the test before
        assert (report.sent, report.bounced, report.dead) == (2, 1, 2), report.errors
        for i in range(55):
            params = {"address": f"r{i}@example.ru", "link": f"https://x/c?t={i}",
                      "expires": "2026-03-12T18:30"}  # fmt: skip
            await enqueue_to(conn, f"ls{i}", EMAIL_CONFIRM, f"c{i}", "email", f"r{i}@example.ru",
                             params)  # fmt: skip
    finally:
        await conn.close()


def test_operator_sees_what_was_sent_failed_and_why(page, site: Site) -> None:
    _run(_fill_log(site.server.db_url))
    operator_log_in(page, site.server.viewer_key)
    page.goto("/operator/notifications")
    assert page.locator("#count-sent").inner_text() == "2"
    assert page.locator("#count-dead").inner_text() == "2"
    assert page.locator("#count-bounced").inner_text() == "1"
    assert "Найдено: 59, показаны 1–50 · страница 1 из 2" in page.locator("#found").inner_text()
    assert page.locator("#log tbody tr.msg").count() == 50
    page.get_by_role("link", name="Вперёд →").click()
    assert page.locator("#log tbody tr.msg").count() == 9
    assert "страница 2 из 2" in page.locator("#found").inner_text()

    page.get_by_label("Состояние").select_option("dead")
    page.get_by_role("button", name="Показать").click()
    rows = page.locator("#log tbody tr.msg")
    assert rows.count() == 2
    texts = " ".join(rows.nth(i).inner_text() for i in range(2))
    assert "отказ адреса" in texts and "550" in texts and "User unknown" in texts
    assert "HTTP 503" in texts and "не доставлено" in texts
    assert "gone@example.ru" in page.locator("#bounces").inner_text()
    shot(page, "notify-operator-dead")

    page.get_by_label("Состояние").select_option("")
    page.get_by_label("Лицевой счёт").fill(BOB[0])
    page.get_by_role("button", name="Показать").click()
    assert page.locator("#log tbody tr.msg").count() == 2
    assert "Найдено: 2" in page.locator("#found").inner_text()
    shot(page, "notify-operator-account")
    assert script_errors(page) == []


async def _three_confirmations(url: str, account: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for i in range(3):
            params = {"address": f"{i}@example.ru", "link": f"https://x/c?t={i}",
                      "expires": "2026-03-12T18:30"}  # fmt: skip
            await enqueue_to(conn, account, EMAIL_CONFIRM, f"limit{i}", "email",
                             f"{i}@example.ru", params)  # fmt: skip
    finally:
        await conn.close()


async def _unconfirmed(url: str, account: str, address: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await set_contact(conn, account, "email", address, confirmed=False)
    finally:
        await conn.close()


def test_confirmation_emails_limited_per_hour(page, site: Site) -> None:
    _run(_three_confirmations(site.server.db_url, BOB[0]))
    log_in(page, BOB, next_path="/cabinet/notifications")
    before = page.locator("#email-state").inner_text()
    page.get_by_label("Адрес e-mail").fill("bob.new@example.ru")
    page.get_by_role("button", name="Сохранить").click()
    page.wait_for_selector("#flash")
    alert = page.get_by_role("alert").inner_text()
    assert "Настройки не сохранены" in alert and "не больше 3 в час" in alert
    assert page.locator("#email-state").inner_text() == before

    _run(_unconfirmed(site.server.db_url, BOB[0], "bob.other@example.ru"))
    page.goto("/cabinet/notifications")
    page.get_by_role("button", name="Отправить ссылку ещё раз").click()
    page.wait_for_selector("#flash")
    alert = page.get_by_role("alert").inner_text()
    assert "Письмо не отправлено" in alert and "повторите через" in alert
    shot(page, "notify-prefs-limited")
    assert script_errors(page) == []
