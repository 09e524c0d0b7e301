"""The resident's cabinet: login, meters with their last reading, submissions through the
shared validation (accepted, flagged, duplicate, rejected with the reason), history, accruals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from tests.api.conftest import ALICE, BOB, Env

pytestmark = pytest.mark.postgres


async def test_login_gives_a_token_and_wrong_passwords_do_not(env: Env) -> None:
    headers = await env.login(ALICE)
    me = await env.client.get("/v1/resident/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["premise"] == "h1-1" and me.json()["account"] == ALICE[0]
    for account, password in ((ALICE[0], BOB[1]), ("6900000002", "whatever-pass"), ("nope", "x")):
        r = await env.client.post(
            "/v1/resident/login", json={"account": account, "password": password}
        )
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"] == "urn:uchet:problem:login-failed"
        assert "access_token" not in r.text


async def test_meters_list_own_meters_with_the_last_reading(env: Env) -> None:
    headers = await env.login(ALICE)
    meters = await env.meters(headers)
    assert set(meters) == {"apt1-cw", "apt1-hw", "apt1-el"}
    now = datetime.now(UTC)
    for value, ago in ((100.0, 3), (101.5, 2)):
        r = await env.client.post(
            f"/v1/resident/meters/{meters['apt1-cw']}/readings",
            json={"value": value, "taken_at": (now - timedelta(days=ago)).isoformat()},
            headers=headers,
        )
        assert r.status_code == 201, r.text
    listed = {
        m["serial"]: m
        for m in (await env.client.get("/v1/resident/meters", headers=headers)).json()
    }
    assert listed["apt1-cw"]["last_reading"]["value"] == 101.5
    assert "manual" in listed["apt1-cw"]["last_reading"]["flags"]
    assert listed["apt1-hw"]["last_reading"] is None
    assert listed["apt1-cw"]["unit"] == "m3"


async def test_submission_outcomes(env: Env) -> None:
    headers = await env.login(ALICE)
    meter = (await env.meters(headers))["apt1-cw"]
    url = f"/v1/resident/meters/{meter}/readings"
    now = datetime.now(UTC)
    t1 = (now - timedelta(days=10)).isoformat()

    first = await env.client.post(url, json={"value": 200.0, "taken_at": t1}, headers=headers)
    assert first.status_code == 201 and first.json()["status"] == "accepted"
    assert first.json()["flags"] == ["manual"]

    again = await env.client.post(url, json={"value": 200.0, "taken_at": t1}, headers=headers)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"

    other = await env.client.post(url, json={"value": 201.0, "taken_at": t1}, headers=headers)
    assert other.status_code == 422
    assert other.json()["reason"] == "conflict"

    lower = await env.client.post(
        url, json={"value": 150.0, "taken_at": (now - timedelta(days=5)).isoformat()},
        headers=headers,
    )  # fmt: skip
    assert lower.status_code == 422
    body = lower.json()
    assert body["type"] == "urn:uchet:problem:reading-rejected"
    assert body["reason"] == "register_rollback"
    assert "меньше предыдущего" in body["detail"] and "200" in body["detail"]

    # 10 m³/h is the cold-water plausibility limit: 5000 m³ in 5 days is far above it.
    # The resident is asked to confirm first; nothing is stored until then.
    t5 = (now - timedelta(days=5)).isoformat()
    unconfirmed = await env.client.post(
        url, json={"value": 5200.0, "taken_at": t5}, headers=headers
    )
    assert unconfirmed.status_code == 409
    assert unconfirmed.json()["type"] == "urn:uchet:problem:confirmation-required"
    huge = await env.client.post(
        url, json={"value": 5200.0, "taken_at": t5, "confirm": True}, headers=headers
    )
    assert huge.status_code == 201
    assert huge.json()["status"] == "flagged"
    assert "implausible_rate" in huge.json()["flags"]
    assert huge.json()["detail"].startswith("Принято")

    normal = await env.client.post(url, json={"value": 5201.0}, headers=headers)
    assert normal.status_code == 201 and normal.json()["status"] == "accepted"

    history = await env.client.get(url, headers=headers)
    assert [h["value"] for h in history.json()] == [5201.0, 5200.0, 200.0]

    conn = await asyncpg.connect(env.url)
    try:
        q = await conn.fetch("SELECT reason, meter, source FROM quarantine")
        conflicts = await conn.fetchval("SELECT count(*) FROM conflicts WHERE source = 'api'")
    finally:
        await conn.close()
    # the rejected reading is kept for an operator, under the meter's own registry key
    assert [(r["reason"], r["meter"], r["source"]) for r in q] == [
        ("register_rollback", "apt1-cw", "mqtt")
    ]
    assert conflicts == 1


@pytest.mark.parametrize(
    ("taken_at", "reason"),
    [
        (timedelta(days=2), "future_timestamp"),
        (-timedelta(days=400), "too_old"),
    ],
)
async def test_dates_out_of_range_are_rejected(env: Env, taken_at: timedelta, reason: str) -> None:
    headers = await env.login(ALICE)
    meter = (await env.meters(headers))["apt1-el"]
    r = await env.client.post(
        f"/v1/resident/meters/{meter}/readings",
        json={"value": 10.0, "taken_at": (datetime.now(UTC) + taken_at).isoformat()},
        headers=headers,
    )
    assert r.status_code == 422 and r.json()["reason"] == reason


async def test_bad_bodies_are_problems_naming_the_field(env: Env) -> None:
    headers = await env.login(ALICE)
    meter = (await env.meters(headers))["apt1-el"]
    url = f"/v1/resident/meters/{meter}/readings"
    for body, field in (
        ({"value": "много"}, "value"),
        ({"value": 1.0, "taken_at": "2026-03-01T10:00:00"}, "taken_at"),  # no offset
        ({"value": 1.0, "extra": 1}, "extra"),
        ({}, "value"),
    ):
        r = await env.client.post(url, json=body, headers=headers)
        assert r.status_code == 422, body
        problem = r.json()
        assert problem["type"] == "urn:uchet:problem:validation-error"
        assert field in problem["detail"]
        assert any(field in e["loc"] for e in problem["errors"])
    r = await env.client.post(
        url, content=b"{not json", headers={**headers, "content-type": "application/json"}
    )
    assert r.status_code == 422


async def test_accruals_with_explanations_after_a_billing_run(env: Env) -> None:
    bill = await env.client.post("/v1/operator/billing/2026-03", headers=env.operator)
    assert bill.status_code == 200, bill.text
    assert bill.json()["lines"] > 0
    headers = await env.login(ALICE)
    r = await env.client.get("/v1/resident/accruals", headers=headers)
    assert r.status_code == 200
    periods = r.json()
    assert [p["period"] for p in periods] == ["2026-03"]
    lines = periods[0]["lines"]
    assert lines and all(line["explanation"] for line in lines)
    from decimal import Decimal

    assert Decimal(periods[0]["total"]) == sum(Decimal(line["amount"]) for line in lines)
    conn = await asyncpg.connect(env.url)
    try:
        stored = await conn.fetchval(
            "SELECT sum(amount) FROM accruals WHERE premise_id = 'h1-1' AND period = '2026-03-01'"
        )
    finally:
        await conn.close()
    assert Decimal(periods[0]["total"]) == stored
    one = await env.client.get("/v1/resident/accruals?period=2026-03", headers=headers)
    assert one.json() == periods
    none = await env.client.get("/v1/resident/accruals?period=2025-01", headers=headers)
    assert none.json() == []
    bad = await env.client.get("/v1/resident/accruals?period=2026-13", headers=headers)
    assert bad.status_code == 422
