"""The ledger over HTTP on a real PostgreSQL: one payment (idempotent on its id), a register
upload with a bad line, the debtors' aging, the resident's balance."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import asyncpg
import pytest

from adapters.store.ledger import add_key_rate
from api.commands.ledger import ledger_month
from core.ledger.dates import parse_period
from tests.api.conftest import ALICE, BOB, Env, env  # noqa: F401  (the fixture)

pytestmark = pytest.mark.postgres

# premise, period, service, method, amount (the example house: h1-1 is Alice's, h1-3 Bob's)
ACCRUALS = (
    ("h1-1", "2026-01-01", "cold_water", "meter", "900.00"),
    ("h1-1", "2026-01-01", "hot_water", "recalculation", "100.00"),
    ("h1-1", "2026-02-01", "cold_water", "meter", "1200.00"),
    ("h1-1", "2026-03-01", "electricity", "meter", "800.00"),
    ("h1-3", "2025-10-01", "cold_water", "meter", "500.00"),
)


async def fill(url: str) -> None:
    """Accruals of the table above and one key rate (20 %, capped at 9.5 % in 2026)."""
    conn = await asyncpg.connect(url)
    try:
        run_id = await conn.fetchval(
            "INSERT INTO billing_runs (period, started_at, premises, meters, lines, total,"
            " totals, load_s, compute_s, write_s)"
            " VALUES ('2026-01-01', now(), 0, 0, 0, 0, '{}', 0, 0, 0) RETURNING id"
        )
        for premise, period, service, method, amount in ACCRUALS:
            await conn.execute(
                "INSERT INTO accruals (period, premise_id, service, method, volume, tariff,"
                " coefficient, amount, explanation, run_id)"
                " VALUES ($1, $2, $3, $4, 10, 2.5, 1, $5, '', $6)",
                date.fromisoformat(period),
                premise,
                service,
                method,
                Decimal(amount),
                run_id,
            )
        await add_key_rate(conn, date(2025, 6, 9), Decimal("20.00"))
    finally:
        await conn.close()


def _payment(pid: str, amount: str = "1000.00", account: str = ALICE[0]) -> dict[str, str]:
    return {"id": pid, "account": account, "date": "2026-02-05", "amount": amount}


async def test_one_payment_is_idempotent_on_its_id(env: Env) -> None:  # noqa: F811
    await fill(env.url)
    url = "/v1/operator/payments"
    r = await env.client.post(url, json=_payment("p1"), headers=env.operator)
    assert r.status_code == 201, r.text
    assert r.json() == {"id": "p1", "account": ALICE[0], "status": "recorded"}
    r = await env.client.post(url, json=_payment("p1"), headers=env.operator)
    assert (r.status_code, r.json()["status"]) == (200, "duplicate")
    r = await env.client.post(url, json=_payment("p1", "999.00"), headers=env.operator)
    assert r.status_code == 409 and "p1" in r.json()["detail"]
    r = await env.client.post(url, json=_payment("x1", account="nobody"), headers=env.operator)
    assert (r.status_code, r.json()["status"]) == (201, "unassigned")
    r = await env.client.post(url, json=_payment("p2", "10.5"), headers=env.operator)
    assert r.status_code == 422 and "amount" in r.json()["detail"]
    r = await env.client.post(url, json=_payment("p3", "-1.00"), headers=env.operator)
    assert r.status_code == 422
    r = await env.client.post(url, json=_payment("p4"), headers=env.viewer)
    assert r.status_code == 403
    conn = await asyncpg.connect(env.url)
    try:
        rows = await conn.fetch("SELECT id, account, amount, source FROM payments ORDER BY id")
        apart = await conn.fetch("SELECT id FROM unassigned_payments")
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [("p1", ALICE[0], Decimal("1000.00"), "api")]
    assert [r["id"] for r in apart] == ["x1"]


REGISTER = (
    "id,account,date,amount,period,to\n"
    f"b1,{ALICE[0]},2026-03-20,200.00,2026-02,\n"
    f"b2,{ALICE[0]},2026-03-21,12.3x,,\n"
    "b3,7700000000,2026-03-22,50.00,,\n"
)


async def _upload(e: Env) -> list[dict[str, object]]:
    r = await e.client.post(
        "/v1/operator/payments/register?mapping=csv",
        files=[("files", ("bank.csv", REGISTER.encode(), "text/csv"))],
        headers=e.operator,
    )
    assert r.status_code == 200, r.text
    reports: list[dict[str, object]] = r.json()
    return reports


async def test_register_upload_reports_lines_and_keeps_good_rows(env: Env) -> None:  # noqa: F811
    await fill(env.url)
    (report,) = await _upload(env)
    assert report["file"] == "bank.csv" and report["rows"] == 2
    assert report["recorded"] == ["b1"] and report["unassigned"] == ["b3"]
    (bad,) = report["rejected"]  # type: ignore[misc]
    assert bad["line"] == 3 and bad["reason"]
    (again,) = await _upload(env)
    assert again["recorded"] == [] and again["duplicates"] == ["b1", "b3"]
    r = await env.client.post(
        "/v1/operator/payments/register?mapping=../../etc/passwd",
        files=[("files", ("bank.csv", REGISTER.encode(), "text/csv"))],
        headers=env.operator,
    )
    assert r.status_code == 422


async def test_debtors_with_aging_and_the_resident_balance(env: Env) -> None:  # noqa: F811
    await fill(env.url)
    r = await env.client.post("/v1/operator/payments", json=_payment("p1"), headers=env.operator)
    assert r.status_code == 201
    await _upload(env)
    r = await env.client.get("/v1/operator/debtors?month=2026-06", headers=env.viewer)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["month"] == "2026-06" and got["date"] == "2026-06-30"
    by = {a["account"]: a for a in got["accounts"]}
    assert sorted(by) == [ALICE[0], BOB[0]]
    alice, bob = by[ALICE[0]], by[BOB[0]]
    # 2026-01 paid on time by p1; 2026-02 (due 2026-03-15) 1200 − 200 left, 107 days overdue;
    # 2026-03 (due 2026-04-15) 800, 76 days overdue
    assert alice["buckets"] == {"0-30": "0.00", "31-90": "800.00", "91-180": "1000.00",
                                "181+": "0.00"}  # fmt: skip
    assert alice["debt"] == "1800.00" and alice["house"] == "h1"
    # 2025-10 (due 2025-11-10): 232 days overdue
    assert bob["buckets"]["181+"] == "500.00" and bob["debt"] == "500.00"
    assert got["totals"]["buckets"]["181+"] == "500.00" and got["totals"]["debt"] == "2300.00"
    conn = await asyncpg.connect(env.url)
    try:
        ledger = await ledger_month(conn, parse_period("2026-06", "m"))
    finally:
        await conn.close()
    for a in ledger["accounts"]:
        assert by[a["id"]]["penalty_due"] == a["statements"][0]["penalty_due"]
        assert by[a["id"]]["closing_balance"] == a["statements"][0]["closing_balance"]
    assert Decimal(alice["penalty_due"]) > 0
    r = await env.client.get("/v1/operator/debtors?month=2026-06&house=nohouse", headers=env.viewer)
    assert r.json()["accounts"] == []
    assert (
        await env.client.get("/v1/operator/debtors?month=2026-6", headers=env.viewer)
    ).status_code == 422
    assert (await env.client.get("/v1/operator/debtors?month=2026-06")).status_code == 401

    headers = await env.login(ALICE)
    r = await env.client.get("/v1/resident/balance?month=2026-03", headers=headers)
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["account"] == ALICE[0] and b["date"] == "2026-03-31"
    assert (b["opening_balance"], b["charged"], b["paid"], b["closing_balance"]) == (
        "0.00", "1200.00", "200.00", "1000.00",
    )  # fmt: skip
    assert [p["id"] for p in b["payments"]] == ["b1"]
    (line,) = b["periods"]
    assert (line["period"], line["debt"], line["due"]) == ("2026-02", "1000.00", "2026-03-15")
    assert b["to_pay"] == str(Decimal(b["closing_balance"]) + Decimal(b["penalty_due"]))
    r = await env.client.get("/v1/resident/balance", headers=headers)
    assert r.status_code == 200 and r.json()["closing_balance"] == "1800.00"
    r = await env.client.get("/v1/resident/balance?month=2100-01", headers=headers)
    assert r.status_code == 422
    assert (await env.client.get("/v1/resident/balance")).status_code == 401
