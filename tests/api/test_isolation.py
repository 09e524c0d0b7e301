"""A resident reaches only their own account and meters; tokens and keys are what they claim.

Every resident endpoint is called with another account's ids (and house, unbound and missing
meter ids): the answer is 404 with no data, and nothing is written.
"""

from __future__ import annotations

import time

import asyncpg
import jwt
import pytest

from api.security import TokenSigner
from tests.api.conftest import ALICE, BOB, SECRET, Env

pytestmark = pytest.mark.postgres


async def _other_ids(env: Env) -> dict[str, int]:
    conn = await asyncpg.connect(env.url)
    try:
        rows = await conn.fetch(
            "SELECT external_id, id FROM meters WHERE premise_id IS DISTINCT FROM 'h1-1'"
        )
        unbound = await conn.fetchval(
            "INSERT INTO meters (source, external_id, channel, service, unit)"
            " VALUES ('mqtt', 'stray', 'cold_water', 'cold_water', 'm3') RETURNING id"
        )
    finally:
        await conn.close()
    ids = {r["external_id"]: r["id"] for r in rows}
    ids["stray (unbound)"] = unbound
    ids["missing"] = max(ids.values()) + 1000
    return ids


async def _seed_bob(env: Env) -> dict[str, int]:
    """Bob submits a reading so that his meters have data that must not leak."""
    bob = await env.login(BOB)
    meters = await env.meters(bob)
    r = await env.client.post(
        f"/v1/resident/meters/{meters['apt3-cw']}/readings",
        json={"value": 4242.25},
        headers=bob,
    )
    assert r.status_code == 201
    return meters


async def test_other_accounts_meters_are_not_found_on_every_endpoint(env: Env) -> None:
    bob_meters = await _seed_bob(env)
    alice = await env.login(ALICE)
    others = await _other_ids(env)
    assert set(bob_meters.values()) <= set(others.values())
    assert {"h1-el", "h1-cw", "apt3-cw", "00042", "shop1-el"} <= set(others)
    for name, meter_id in others.items():
        url = f"/v1/resident/meters/{meter_id}/readings"
        for request in (
            env.client.get(url, headers=alice),
            env.client.get(url + "?limit=5", headers=alice),
            env.client.post(url, json={"value": 4243.0}, headers=alice),
            env.client.post(url, json={"value": 1.0}, headers=alice),
        ):
            r = await request
            assert r.status_code == 404, (name, r.status_code, r.text)
            assert r.json()["type"] == "urn:uchet:problem:not-found"
            assert "4242" not in r.text and "apt3" not in r.text
    listed = await env.meters(alice)
    assert set(listed) == {"apt1-cw", "apt1-hw", "apt1-el"}
    conn = await asyncpg.connect(env.url)
    try:
        # Alice's attempts wrote nothing: Bob's meter still has only his reading.
        values = await conn.fetch(
            "SELECT value FROM readings WHERE meter_id = $1", bob_meters["apt3-cw"]
        )
        quarantined = await conn.fetchval("SELECT count(*) FROM quarantine")
    finally:
        await conn.close()
    assert [r["value"] for r in values] == [4242.25]
    assert quarantined == 0


async def test_accruals_and_me_show_only_the_own_premise(env: Env) -> None:
    bill = await env.client.post("/v1/operator/billing/2026-03", headers=env.operator)
    assert bill.status_code == 200
    alice = await env.login(ALICE)
    bob = await env.login(BOB)
    mine = (await env.client.get("/v1/resident/accruals", headers=alice)).json()
    his = (await env.client.get("/v1/resident/accruals", headers=bob)).json()
    assert mine and his and mine != his
    conn = await asyncpg.connect(env.url)
    try:
        expected = {
            premise: [
                r["amount"]
                for r in await conn.fetch(
                    "SELECT amount FROM accruals WHERE premise_id = $1 ORDER BY service, method",
                    premise,
                )
            ]
            for premise in ("h1-1", "h1-3")
        }
    finally:
        await conn.close()
    from decimal import Decimal

    assert [Decimal(x["amount"]) for x in mine[0]["lines"]] == expected["h1-1"]
    assert [Decimal(x["amount"]) for x in his[0]["lines"]] == expected["h1-3"]
    assert (await env.client.get("/v1/resident/me", headers=bob)).json()["premise"] == "h1-3"


async def test_tokens_must_be_signed_current_and_unexpired(env: Env) -> None:
    good = await env.login(ALICE)
    token = good["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    forged_other_account = jwt.encode({**claims, "sub": BOB[0]}, "another-key" * 4, "HS256")
    unsigned = jwt.encode({**claims, "sub": BOB[0]}, None, algorithm="none")
    expired = TokenSigner(SECRET, ttl_s=60).issue(ALICE[0], claims["ver"], now=time.time() - 120)
    wrong_type = jwt.encode({**claims, "typ": "operator"}, SECRET, "HS256")
    tampered = token[:-3] + ("abc" if token[-3:] != "abc" else "xyz")  # never the token itself
    for bad in (forged_other_account, unsigned, expired, wrong_type, tampered, "x"):
        r = await env.client.get("/v1/resident/meters", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad
        assert r.headers["www-authenticate"] == "Bearer"
    assert (await env.client.get("/v1/resident/meters")).status_code == 401
    # An operator's key is not a resident token, and a resident token opens no operator door.
    assert (await env.client.get("/v1/resident/meters", headers=env.operator)).status_code == 401
    for path in ("/v1/operator/stats", "/v1/operator/meters"):
        assert (await env.client.get(path, headers=good)).status_code == 401


async def test_password_reset_ends_old_tokens(env: Env) -> None:
    old = await env.login(ALICE)
    r = await env.client.put(
        f"/v1/operator/accounts/{ALICE[0]}/password", json={}, headers=env.operator
    )
    assert r.status_code == 200
    generated = r.json()["password"]
    assert generated and len(generated) >= 8
    assert (await env.client.get("/v1/resident/me", headers=old)).status_code == 401
    r = await env.client.post(
        "/v1/resident/login", json={"account": ALICE[0], "password": ALICE[1]}
    )
    assert r.status_code == 401
    new = await env.login((ALICE[0], generated))
    assert (await env.client.get("/v1/resident/me", headers=new)).status_code == 200


async def test_roles_of_api_keys(env: Env) -> None:
    assert (await env.client.get("/v1/operator/stats", headers=env.viewer)).status_code == 200
    for method, path, body in (
        ("POST", "/v1/operator/billing/2026-03", None),
        ("PUT", f"/v1/operator/accounts/{ALICE[0]}/password", {"password": "x" * 12}),
        ("POST", "/v1/operator/reference", {"tariffs": []}),
        ("POST", "/v1/operator/quarantine/replay", {"meter_ids": [1]}),
    ):
        r = await env.client.request(method, path, json=body, headers=env.viewer)
        assert r.status_code == 403, path
        assert r.json()["type"] == "urn:uchet:problem:forbidden"
        r = await env.client.request(method, path, json=body)
        assert r.status_code == 401, path
        r = await env.client.request(method, path, json=body, headers={"X-API-Key": "uk_guess"})
        assert r.status_code == 401, path


async def test_revoked_keys_stop_working(env: Env) -> None:
    conn = await asyncpg.connect(env.url)
    try:
        await conn.execute("UPDATE api_keys SET revoked_at = now() WHERE role = 'viewer'")
    finally:
        await conn.close()
    assert (await env.client.get("/v1/operator/stats", headers=env.viewer)).status_code == 401
