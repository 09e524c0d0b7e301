"""The operator's debtors over HTTP on a real PostgreSQL: filters (house, least debt, bucket),
paging with totals of every match, the CSV and XLSX exports, and the collection rate per house
and period worked out by hand."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from adapters.payments.register import PaymentRow
from adapters.store.ledger import record_payments
from tests.api.conftest import ALICE, BOB, Env, env  # noqa: F401  (the fixture)
from tests.ledger.test_epd_store import fill_with_payments

pytestmark = pytest.mark.postgres

CAROL = "7700000009"  # premise h9-1 of a second house


async def fill_two_houses(url: str) -> None:
    """test_epd_store's ledger (Alice owes 1800.00 of 2026-02/03, Bob 500.00 of 2025-10) and
    a second house h9 whose one account was charged 300.00 for 2026-03 and paid 150.00."""
    await fill_with_payments(url)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("INSERT INTO houses (id, address) VALUES ('h9', 'ул. Новая, 9')")
        await conn.execute(
            "INSERT INTO premises (id, house_id, account, area, residents)"
            " VALUES ('h9-1', 'h9', $1, 40, 1)",
            CAROL,
        )
        run_id = await conn.fetchval("SELECT min(id) FROM billing_runs")
        await conn.execute(
            "INSERT INTO accruals (period, premise_id, service, method, volume, tariff,"
            " coefficient, amount, explanation, run_id)"
            " VALUES ('2026-03-01', 'h9-1', 'cold_water', 'meter', 10, 30, 1, 300.00, '', $1)",
            run_id,
        )
        row = PaymentRow("c1", CAROL, date(2026, 4, 10), 15000, None, "charges", 0)
        assert (await record_payments(conn, [row], "test")).recorded == ["c1"]
    finally:
        await conn.close()


async def _get(e: Env, query: str) -> dict[str, object]:
    r = await e.client.get(f"/v1/operator/debtors?month=2026-06&{query}", headers=e.viewer)
    assert r.status_code == 200, r.text
    got: dict[str, object] = r.json()
    return got


def _accounts(got: dict[str, object]) -> list[str]:
    return [a["account"] for a in got["accounts"]]  # type: ignore[attr-defined]


async def test_filters_paging_and_totals(env: Env) -> None:  # noqa: F811
    await fill_two_houses(env.url)
    everyone = await _get(env, "")
    # largest debt (with penalty) first: Alice 1800, Bob 500, Carol 150
    assert _accounts(everyone) == [ALICE[0], BOB[0], CAROL]
    carol = everyone["accounts"][2]  # type: ignore[index]
    assert carol["house"] == "h9" and carol["address"] == "ул. Новая, 9"
    assert carol["debt"] == "150.00" and carol["buckets"]["31-90"] == "150.00"
    assert everyone["totals"]["debt"] == "2450.00"  # type: ignore[index]
    assert _accounts(await _get(env, "min_debt=1000")) == [ALICE[0]]
    assert _accounts(await _get(env, "min_debt=1000,5")) == [ALICE[0]]
    assert _accounts(await _get(env, "bucket=181%2B")) == [BOB[0]]
    assert _accounts(await _get(env, "bucket=31-90")) == [ALICE[0], CAROL]
    h9 = await _get(env, "house=h9")
    assert _accounts(h9) == [CAROL] and h9["totals"]["debt"] == "150.00"  # type: ignore[index]
    page = await _get(env, "limit=1&offset=1")
    assert _accounts(page) == [BOB[0]]
    assert page["totals"]["accounts"] == 3 and page["totals"]["debt"] == "2450.00"  # type: ignore[index]
    for bad in ("min_debt=abc", "min_debt=-5", "min_debt=1.234", "bucket=1-2", "limit=0"):
        r = await env.client.get(f"/v1/operator/debtors?month=2026-06&{bad}", headers=env.viewer)
        assert r.status_code == 422, bad
    r = await env.client.get("/v1/operator/debtors?month=2100-01", headers=env.viewer)
    assert r.status_code == 422
    r = await env.client.get("/v1/operator/debtors?month=2026-06&house=h%001", headers=env.viewer)
    assert 400 <= r.status_code < 500
    today = datetime.now(ZoneInfo("Europe/Moscow")).date()
    this = f"{today:%Y-%m}"
    got = await env.client.get(f"/v1/operator/debtors?month={this}", headers=env.viewer)
    assert got.json()["date"] in (str(today), str(date.fromordinal(today.toordinal() - 1)))


async def test_exports_carry_every_matching_row(env: Env) -> None:  # noqa: F811
    await fill_two_houses(env.url)
    r = await env.client.get(
        "/v1/operator/debtors.csv?month=2026-06&min_debt=100", headers=env.viewer
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert 'filename="debtors-2026-06.csv"' in r.headers["content-disposition"]
    assert r.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Лицевой счёт" and "Долг, ₽" in rows[0]
    by = {row[0]: row for row in rows[1:]}
    assert sorted(by) == sorted([ALICE[0], BOB[0], CAROL])
    debt = rows[0].index("Долг, ₽")
    assert by[ALICE[0]][debt] == "1800,00" and by[CAROL][debt] == "150,00"
    assert by[BOB[0]][rows[0].index("181 день и более, ₽")] == "500,00"

    openpyxl = pytest.importorskip("openpyxl")
    r = await env.client.get("/v1/operator/debtors.xlsx?month=2026-06&house=h1", headers=env.viewer)
    assert r.status_code == 200 and "spreadsheetml" in r.headers["content-type"]
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.iter_rows(values_only=True))
    assert "2026" in values[0][0] and "h1" in values[0][0]
    header, body = values[1], values[2:]
    assert [row[0] for row in body] == [ALICE[0], BOB[0]]
    assert Decimal(str(body[0][header.index("Долг, ₽")])) == Decimal("1800.00")
    assert sheet.cell(row=3, column=4).number_format.endswith('"₽"')
    r = await env.client.get("/v1/operator/debtors.pdf?month=2026-06", headers=env.viewer)
    assert r.status_code == 422
    assert (await env.client.get("/v1/operator/debtors.csv?month=2026-06")).status_code == 401


async def test_collection_rate_per_house_and_period(env: Env) -> None:  # noqa: F811
    await fill_two_houses(env.url)
    r = await env.client.get("/v1/operator/collection?month=2026-06", headers=env.viewer)
    assert r.status_code == 200, r.text
    got = r.json()
    # as of 2026-06-30 the periods charged are up to 2026-05 (charged on 2026-06-01)
    assert got["periods"] == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05"]
    houses = {h["house"]: {c["period"]: c for c in h["periods"]} for h in got["houses"]}
    h1, h9 = houses["h1"], houses["h9"]
    # Alice: January 1000.00 paid by p1; February 1200.00 of which b1 paid 200.00; March unpaid
    assert (h1["2026-01"]["charged"], h1["2026-01"]["paid"]) == ("1000.00", "1000.00")
    assert h1["2026-01"]["rate_percent"] == "100.00"
    assert h1["2026-02"]["rate_percent"] == "16.67"  # 200 / 1200, half-up
    assert h1["2026-03"]["rate_percent"] == "0.00"
    assert h1["2026-04"]["rate_percent"] is None and h1["2026-04"]["charged"] == "0.00"
    assert h9["2026-03"]["rate_percent"] == "50.00"
    total = {c["period"]: c for c in got["total"]}
    assert (total["2026-03"]["charged"], total["2026-03"]["paid"]) == ("1100.00", "150.00")
    assert total["2026-03"]["rate_percent"] == "13.64"  # 150 / 1100 = 13.636…
    r = await env.client.get(
        "/v1/operator/collection?month=2026-03&months=2&house=h9", headers=env.viewer
    )
    got = r.json()
    # as of 2026-03-31 only 2026-02 of the two periods is charged; h9 had no charge then
    assert got["periods"] == ["2026-02"] and [h["house"] for h in got["houses"]] == ["h9"]
    assert got["houses"][0]["periods"][0]["rate_percent"] is None
    r = await env.client.get("/v1/operator/collection?month=2026-06&months=0", headers=env.viewer)
    assert r.status_code == 422
    assert (await env.client.get("/v1/operator/collection?month=2026-06")).status_code == 401
