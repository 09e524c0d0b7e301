"""The saved month (``uchet ledger --month M --save``) on a real PostgreSQL: the debtors list,
its totals, filters, paging, exports and the collection rate read from it equal, to the
kopeck, what settling every account now gives on the same data; re-saving replaces it; the
views say which they show and warn when payments arrived after the save."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from adapters.payments.register import PaymentRow
from adapters.store.ledger import load_accounts, record_payments, set_opening_debt
from api.cli import main
from core.ledger.dates import last_day, month_index
from ingest.ledger_month import save_month
from tests.api.conftest import ALICE, Env, env, prepare  # noqa: F401  (the fixture)
from tests.ledger.test_debtors_api import fill_two_houses

pytestmark = pytest.mark.postgres

JUNE = month_index(2026, 6)
MARCH = month_index(2026, 3)
H8_PAYER = "8800000003"
ORPHAN = "ZZ-0001"  # an opening debt of an account no premise has (no house)
QUERIES = (
    "",
    "house=h1",
    "house=h9",
    "house=h8",
    "house=nosuch",
    "bucket=0-30",
    "bucket=31-90",
    "bucket=91-180",
    "bucket=181%2B",
    "min_debt=150",
    "min_debt=100&house=h8&bucket=31-90",
    "limit=3&offset=2",
    "limit=2&offset=100",
)


async def add_house_h8(conn: asyncpg.Connection, count: int) -> None:
    """A house h8 of ``count`` premises (accounts 88 and 8 digits), each charged 100.00 for
    2026-04."""
    await conn.execute("INSERT INTO houses (id, address) VALUES ('h8', 'пр. Широкий, 8')")
    ids = [f"h8-{i:02d}" for i in range(count)]
    await conn.execute(
        "INSERT INTO premises (id, house_id, account, area)"
        " SELECT i, 'h8', '88' || lpad(n::text, 8, '0'), 30"
        " FROM unnest($1::text[]) WITH ORDINALITY AS t(i, n)",
        ids,
    )
    await conn.execute(
        "INSERT INTO accruals (period, premise_id, service, method, volume, tariff,"
        " coefficient, amount, explanation, run_id)"
        " SELECT '2026-04-01', i, 'cold_water', 'meter', 1, 100, 1, 100.00, '',"
        " (SELECT min(id) FROM billing_runs) FROM unnest($1::text[]) AS i",
        ids,
    )


async def fill(url: str) -> None:
    """test_debtors_api's two houses, a house h8 of seven equal debtors (100.00 of 2026-04,
    one paid 40.00 late) and an account with only an opening debt."""
    await fill_two_houses(url)
    conn = await asyncpg.connect(url)
    try:
        await add_house_h8(conn, 7)
        row = PaymentRow("h8p", H8_PAYER, date(2026, 6, 20), 4000, None, "charges", 0)
        assert (await record_payments(conn, [row], "test")).recorded == ["h8p"]
        await set_opening_debt(conn, ORPHAN, date(2025, 11, 1), Decimal("250.50"))
    finally:
        await conn.close()


async def save(url: str, month: int, batch: int) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await save_month(conn, month, last_day(month), batch=batch)
    finally:
        await conn.close()


async def _get(e: Env, path: str) -> Any:
    r = await e.client.get(path, headers=e.viewer)
    assert r.status_code == 200, r.text
    return r


async def _both(e: Env, path: str, *, raw: bool = False) -> tuple[Any, Any]:
    """The saved view and the live one (settled now) of one query (JSON, or responses)."""
    saved = await _get(e, path)
    live = await _get(e, path + "&live=true")
    return (saved, live) if raw else (saved.json(), live.json())


def _without_source(got: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in got.items() if k != "source"}


async def test_saved_month_equals_live(env: Env) -> None:  # noqa: F811
    await fill(env.url)
    live = (await _get(env, "/v1/operator/debtors?month=2026-06")).json()
    assert live["source"]["kind"] == "live"
    saved = await save(env.url, JUNE, batch=2)  # many batches: the cursors' merge is crossed
    assert saved.debtors == live["totals"]["accounts"] == 11
    conn = await asyncpg.connect(env.url)
    try:  # every account with ledger entries, debtor or not
        assert saved.accounts == len(await load_accounts(conn, date(2026, 6, 30)))
    finally:
        await conn.close()
    for query in QUERIES:
        got, now = await _both(env, f"/v1/operator/debtors?month=2026-06&{query}")
        assert got["source"]["kind"] == "saved" and now["source"]["kind"] == "live", query
        assert _without_source(got) == _without_source(now), query
    everyone = (await _get(env, "/v1/operator/debtors?month=2026-06")).json()
    assert everyone["source"]["date"] == "2026-06-30" and everyone["source"]["new_payments"] == 0
    orphan = next(a for a in everyone["accounts"] if a["account"] == ORPHAN)
    assert orphan["house"] is None and orphan["buckets"]["181+"] == "250.50"
    h8 = [a["account"] for a in everyone["accounts"] if a["house"] == "h8"]
    assert h8[-1] == H8_PAYER and h8[:-1] == sorted(h8[:-1])  # ties by account, as live
    for query in ("", "&house=h8&min_debt=100", "&bucket=181%2B"):
        for fmt in ("csv", "xlsx"):
            got, now = await _both(
                env, f"/v1/operator/debtors.{fmt}?month=2026-06{query}", raw=True
            )
            if fmt == "csv":
                assert got.content == now.content, query
            else:
                assert len(got.content) > 1000
                assert got.headers["content-disposition"] == now.headers["content-disposition"]
    for query in ("months=6", "months=36", "months=1", "house=h9", "house=h8&months=12"):
        got, now = await _both(env, f"/v1/operator/collection?month=2026-06&{query}")
        assert got["source"]["kind"] == "saved", query
        assert _without_source(got) == _without_source(now), query
    # a month saved earlier: the house without a charge then still shows, as live
    await save(env.url, MARCH, batch=1000)
    got, now = await _both(env, "/v1/operator/collection?month=2026-03&months=2&house=h9")
    assert _without_source(got) == _without_source(now) and got["houses"][0]["house"] == "h9"
    got, now = await _both(env, "/v1/operator/debtors?month=2026-03")
    assert _without_source(got) == _without_source(now)


async def test_resave_replaces_and_new_payments_are_flagged(env: Env) -> None:  # noqa: F811
    await fill(env.url)
    first = await save(env.url, JUNE, batch=1000)
    before = (await _get(env, "/v1/operator/debtors?month=2026-06")).json()
    conn = await asyncpg.connect(env.url)
    try:
        row = PaymentRow("late1", ALICE[0], date(2026, 6, 25), 30000, None, "charges", 0)
        assert (await record_payments(conn, [row], "test")).recorded == ["late1"]
        future = PaymentRow("late2", ALICE[0], date(2026, 7, 5), 100, None, "charges", 0)
        assert (await record_payments(conn, [future], "test")).recorded == ["late2"]
    finally:
        await conn.close()
    stale = (await _get(env, "/v1/operator/debtors?month=2026-06")).json()
    assert stale["source"]["new_payments"] == 1  # the July payment is not in June's view
    assert _without_source(stale) == _without_source(before)  # still the saved figures
    live = (await _get(env, "/v1/operator/debtors?month=2026-06&live=true")).json()
    assert live["totals"]["debt"] != before["totals"]["debt"]
    second = await save(env.url, JUNE, batch=3)
    assert second.accounts == first.accounts
    again = (await _get(env, "/v1/operator/debtors?month=2026-06")).json()
    assert again["source"]["new_payments"] == 0
    assert _without_source(again) == _without_source(live)
    conn = await asyncpg.connect(env.url)
    try:
        rows = await conn.fetchval(
            "SELECT count(*) FROM ledger_month_accounts WHERE month = '2026-06-01'"
        )
        assert rows == second.accounts
        assert await conn.fetchval("SELECT count(*) FROM ledger_months") == 1
    finally:
        await conn.close()


def test_save_command(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(prepare(db_url))
    asyncio.run(fill(db_url))
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    monkeypatch.setenv("UCHET_PROGRESS", "1")  # the bar, though stderr is not a terminal
    for _ in range(2):  # the second replaces the first
        assert main(["ledger", "--month", "2026-06", "--save"]) == 0
        printed = capsys.readouterr()
        assert "месяц 2026-06" in printed.err and "100%" in printed.err
        assert "месяц 2026-06 сохранён на 30.06.2026: лицевых счетов" in printed.out
        assert re.search(r"должников 11, за \d+\.\d с", printed.out)

    async def rows() -> int:
        conn = await asyncpg.connect(db_url)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM ledger_month_accounts"))
        finally:
            await conn.close()

    assert asyncio.run(rows()) == len(asyncio.run(_accounts(db_url)))
    assert main(["ledger", "--month", "2026-06", "--save", "--account", "x"]) != 0
    assert "--account" in capsys.readouterr().err
    assert main(["ledger", "--month", "2100-01", "--save"]) != 0
    assert "2100-01" in capsys.readouterr().err


async def _accounts(url: str) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        return await load_accounts(conn, date(2026, 6, 30))
    finally:
        await conn.close()
