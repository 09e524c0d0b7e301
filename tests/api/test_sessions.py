"""Sessions end on the server: logout (API and web) and a password change refuse every saved
token and cookie of the account; after a reference load the premise cache still hears such
changes at once (it once stopped listening, and revocation took its short TTL)."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from api.app import create_app
from api.auth_db import set_password
from api.security import hash_password
from api.token_cache import TokenCache
from tests.api.conftest import ALICE, BOB, HOUSE, Env, prepare, settings

pytestmark = pytest.mark.postgres


async def _until(predicate, seconds: float) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + seconds
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, f"not within {seconds} s"
        await asyncio.sleep(0.02)


async def test_api_logout_refuses_the_saved_token_and_the_accounts_others(env: Env) -> None:
    alice, other, bob = await env.login(ALICE), await env.login(ALICE), await env.login(BOB)
    meters = await env.meters(alice)
    meter = next(iter(meters.values()))
    r = await env.client.post("/v1/resident/logout", headers=alice)
    assert r.status_code == 204, r.text
    for saved in (alice, other):  # the token just used, and another device's
        assert (await env.client.get("/v1/resident/me", headers=saved)).status_code == 401
        submit = await env.client.post(
            f"/v1/resident/meters/{meter}/readings",
            json={"value": 1, "taken_at": datetime.now(UTC).isoformat()},
            headers=saved,
        )
        assert submit.status_code == 401
    assert (await env.client.post("/v1/resident/logout", headers=alice)).status_code == 401
    assert (await env.client.get("/v1/resident/me", headers=bob)).status_code == 200
    again = await env.login(ALICE)  # logging in again works
    assert (await env.client.get("/v1/resident/me", headers=again)).status_code == 200


async def test_a_password_change_refuses_saved_tokens(env: Env) -> None:
    alice = await env.login(ALICE)
    r = await env.client.put(
        f"/v1/operator/accounts/{ALICE[0]}/password",
        json={"password": "changed-password-9"},
        headers=env.operator,
    )
    assert r.status_code == 200, r.text
    assert (await env.client.get("/v1/resident/me", headers=alice)).status_code == 401


async def test_after_a_reference_load_the_cache_still_listens(env: Env) -> None:
    tokens: TokenCache = env.app.state.services.tokens
    tokens.ttl_s = tokens.listened_ttl_s = 3600  # only a notification can end an entry

    async def listening() -> bool:
        return tokens.listening

    await _until(listening, 5)
    doc = json.loads(HOUSE.read_text(encoding="utf-8"))
    r = await env.client.post("/v1/operator/reference", json=doc, headers=env.operator)
    assert r.status_code == 200, r.text
    assert env.app.state.services.tokens is tokens and tokens.listening
    alice = await env.login(ALICE)
    assert (await env.client.get("/v1/resident/me", headers=alice)).status_code == 200
    assert tokens.get(ALICE[0], 1) is not None  # cached
    conn = await asyncpg.connect(env.url)
    try:  # another process changes the password
        await set_password(conn, ALICE[0], hash_password("a-new-password-1"))
    finally:
        await conn.close()

    async def refused() -> bool:
        r = await env.client.get("/v1/resident/me", headers=alice)
        return r.status_code == 401

    await _until(refused, 2)


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the form"
    return found.group(1)


async def test_web_logout_refuses_a_saved_cookie(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UCHET_WEB_SECURE_COOKIE", "always")
    await prepare(db_url)
    app = create_app(db_url, settings=settings())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as client:
            page = await client.get("/login")
            r = await client.post(
                "/login",
                data={"csrf": _csrf(page.text), "account": ALICE[0], "password": ALICE[1]},
            )
            assert r.status_code == 303 and r.headers["location"] == "/cabinet"
            cabinet = await client.get("/cabinet")
            assert cabinet.status_code == 200
            saved = client.cookies.get("uchet_session")
            assert saved
            r = await client.post("/logout", data={"csrf": _csrf(cabinet.text)})
            assert r.status_code == 303
        async with httpx.AsyncClient(
            transport=transport, base_url="https://t", cookies={"uchet_session": saved}
        ) as replay:
            r = await replay.get("/cabinet")
            assert r.status_code == 303 and r.headers["location"].startswith("/login"), r.text
