"""``uchet notify`` on a real database and a real local SMTP server."""

from __future__ import annotations

import json

import asyncpg
import pytest

from api.cli import main
from api.runtime import migrate_url
from tests.api.conftest import ALICE, prepare
from tests.ledger.test_epd_store import fill_with_payments
from tests.notify.seed import seed
from tests.notify.servers import smtp_server

pytestmark = pytest.mark.postgres


async def test_cli_enqueue_send_list(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await migrate_url(db_url)
    conn = await asyncpg.connect(db_url)
    try:
        await seed(conn, accounts=2, meters_each=1)
    finally:
        await conn.close()
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    run = _in_thread
    assert await run(["notify", "contact", "ls0", "email", "a@example.ru", "--confirmed"]) == 0
    assert await run(["notify", "contact", "ls1", "email", "b@example.ru", "--confirmed"]) == 0
    assert await run(["notify", "opt", "ls1", "email", "reading_window_open", "out"]) == 0
    assert await run(["notify", "enqueue-reminders", "--period", "2026-03"]) == 0
    assert "enqueued 1 message(s) for 2026-03" in capsys.readouterr().out
    with smtp_server() as (port, box):
        code = await run(["notify", "send", "--once", "--smtp-host", "127.0.0.1",
                          "--smtp-port", str(port)])  # fmt: skip
    assert code == 0 and [str(m["To"]) for m in box.messages] == ["a@example.ru"]
    assert "sent 1, to retry 0, dead 0" in capsys.readouterr().out
    assert await run(["notify", "list"]) == 0
    assert " sent reading_window_open 2026-03 ls0 email:a@example.ru" in capsys.readouterr().out
    assert await run(["notify", "opt", "ls1", "email", "spam", "out"]) == 2
    assert "unknown notification kind 'spam'" in capsys.readouterr().err


async def _in_thread(argv: list[str]) -> int:
    import asyncio

    return await asyncio.to_thread(main, argv)


async def test_cli_enqueue_kinds_and_their_errors(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await migrate_url(db_url)
    conn = await asyncpg.connect(db_url)
    try:
        await seed(conn, accounts=2, meters_each=1)
    finally:
        await conn.close()
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    monkeypatch.delenv("UCHET_NOTIFY_OPERATOR_EMAIL", raising=False)
    monkeypatch.delenv("UCHET_NOTIFY_OPERATOR_CHAT", raising=False)
    run = _in_thread
    assert await run(["notify", "contact", "ls0", "email", "a@example.ru", "--confirmed"]) == 0
    assert await run(["notify", "enqueue", "--kind", "reading_window_closes"]) == 2
    assert "--kind reading_window_closes needs --period YYYY-MM" in capsys.readouterr().err
    assert await run(["notify", "enqueue", "--kind", "epd_ready", "--month", "2026-13"]) == 2
    assert "period '2026-13': expected YYYY-MM" in capsys.readouterr().err
    args = ["notify", "enqueue", "--kind", "reading_window_closes", "--period", "2026-03"]
    assert await run(args) == 0
    assert "enqueued 1 message(s) for 2026-03" in capsys.readouterr().out
    assert await run(args) == 0
    assert "enqueued 0 message(s)" in capsys.readouterr().out  # never twice
    assert await run(["notify", "enqueue", "--kind", "operator"]) == 2
    assert "UCHET_NOTIFY_OPERATOR_EMAIL" in capsys.readouterr().err
    monkeypatch.setenv("UCHET_NOTIFY_OPERATOR_EMAIL", "ops@example.ru")
    assert await run(["notify", "enqueue", "--kind", "operator"]) == 0
    assert "enqueued 0 message(s) for now" in capsys.readouterr().out  # nothing is wrong
    assert (
        await run(["notify", "list", "--status", "waiting", "--kind", "reading_window_closes"]) == 0
    )
    assert (
        " pending reading_window_closes 2026-03 ls0 email:a@example.ru" in capsys.readouterr().out
    )


async def test_cli_enqueue_debt_from_the_ledger(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await prepare(db_url)
    await fill_with_payments(db_url)  # at the end of March Alice owes 1000.00, 16 days late
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    run = _in_thread
    assert await run(["notify", "contact", ALICE[0], "email", "a@example.ru", "--confirmed"]) == 0
    args = ["notify", "enqueue", "--kind", "debt", "--period", "2026-03", "--threshold"]
    assert await run([*args, "1000.00"]) == 0  # not above
    assert "enqueued 0 message(s)" in capsys.readouterr().out
    assert await run([*args, "999.99"]) == 0
    assert "enqueued 1 message(s) for 2026-03" in capsys.readouterr().out
    assert await run([*args, "12"]) == 2
    assert "--threshold: '12' is not money" in capsys.readouterr().err
    conn = await asyncpg.connect(db_url)
    try:
        params = await conn.fetchval("SELECT params FROM notify_outbox WHERE kind = 'debt'")
    finally:
        await conn.close()
    p = json.loads(params)
    # due 2026-03-15 (16 days before 31 March): penalties from its 31st day after
    assert p == {"period": "2026-03", "debt": "1000.00", "penalty_from": "2026-04-15"}
