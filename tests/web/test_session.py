"""Sessions of the pages without a browser: cookie flags, CSRF and origin checks, tampered
cookies, and a password reset ending a resident's web session."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from api.app import create_app
from api.auth_db import set_password
from api.security import hash_password
from tests.api.conftest import ALICE, prepare, settings

pytestmark = pytest.mark.postgres


@pytest.fixture
async def client(db_url: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setenv("UCHET_WEB_SECURE_COOKIE", "always")
    await prepare(db_url)
    app = create_app(db_url, settings=settings())
    async with app.router.lifespan_context(app):
        # A reset made outside this process reaches a running one by a notification, a few
        # milliseconds later (tests/api/test_token_cache.py): no cache here, so no waiting.
        tokens = app.state.services.tokens
        tokens.ttl_s = tokens.listened_ttl_s = 0
        transport = httpx.ASGITransport(app=app)
        # https: a Secure cookie is only sent back over https.
        async with httpx.AsyncClient(transport=transport, base_url="https://t") as c:
            yield c


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no CSRF field in the form"
    return found.group(1)


async def _login(client: httpx.AsyncClient) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login",
        data={"csrf": _csrf(page.text), "account": ALICE[0], "password": ALICE[1]},
    )


async def test_cookie_flags_and_security_headers(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    assert page.status_code == 200
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    r = await _login(client)
    assert r.status_code == 303 and r.headers["location"] == "/cabinet"
    assert (await client.get("/cabinet")).status_code == 200


async def test_login_needs_the_forms_csrf_token_and_our_origin(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    token = _csrf(page.text)
    form = {"account": ALICE[0], "password": ALICE[1]}
    assert (await client.post("/login", data=form)).status_code == 403
    assert (await client.post("/login", data={**form, "csrf": token + "x"})).status_code == 403
    evil = await client.post(
        "/login", data={**form, "csrf": token}, headers={"Origin": "https://evil.example"}
    )
    assert evil.status_code == 403 and "другого сайта" in evil.text
    ok = await client.post("/login", data={**form, "csrf": token}, headers={"Origin": "https://t"})
    assert ok.status_code == 303
    # The token changes at login: the one of the anonymous form no longer works.
    meters = await client.get("/cabinet")
    assert _csrf(meters.text) != token


async def test_a_tampered_cookie_is_no_session(client: httpx.AsyncClient) -> None:
    await _login(client)
    value = client.cookies["uchet_session"]
    body, mac = value.split(".")
    client.cookies.clear()
    changed = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")  # never the body itself
    client.cookies.set("uchet_session", changed + "." + mac)
    r = await client.get("/cabinet")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


async def test_a_password_reset_ends_the_web_session(
    client: httpx.AsyncClient, db_url: str
) -> None:
    await _login(client)
    assert (await client.get("/cabinet")).status_code == 200
    conn = await asyncpg.connect(db_url)
    try:
        await set_password(conn, ALICE[0], hash_password("a-new-password-1"))
    finally:
        await conn.close()
    r = await client.get("/cabinet")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
