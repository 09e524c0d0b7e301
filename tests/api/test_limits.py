"""Rate limits (login, submissions), request size limits, the submission window, and logs
that hold no password, token or account (ФЗ-152)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from api.app import create_app
from api.ratelimit import RateLimiter
from tests.api.conftest import ALICE, BOB, Env, prepare, settings

pytestmark = pytest.mark.postgres


@asynccontextmanager
async def app_env(db_url: str, **changes: object) -> AsyncIterator[Env]:
    operator, viewer = await prepare(db_url)
    app = create_app(db_url, settings=settings(**changes))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield Env(app, client, db_url, {"X-API-Key": operator}, {"X-API-Key": viewer})


def test_token_bucket_refills_with_time() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.hit("a") == 0 and limiter.hit("a") == 0
    assert limiter.hit("a") == pytest.approx(30.0)  # 2 per minute: one every 30 s
    assert limiter.hit("b") == 0  # keys are independent
    now[0] = 30.0
    assert limiter.hit("a") == 0 and limiter.hit("a") > 0


async def test_login_is_rate_limited_even_with_the_right_password(db_url: str) -> None:
    async with app_env(db_url, api_login_per_minute=3) as env:
        for _ in range(3):
            r = await env.client.post(
                "/v1/resident/login", json={"account": ALICE[0], "password": "wrong-guess"}
            )
            assert r.status_code == 401
        r = await env.client.post(
            "/v1/resident/login", json={"account": ALICE[0], "password": ALICE[1]}
        )
        assert r.status_code == 429
        assert r.json()["type"] == "urn:uchet:problem:rate-limited"
        assert int(r.headers["retry-after"]) >= 1
        # the same client address is limited across accounts too
        r = await env.client.post(
            "/v1/resident/login", json={"account": BOB[0], "password": BOB[1]}
        )
        assert r.status_code == 429


async def test_submissions_are_rate_limited_per_account(db_url: str) -> None:
    async with app_env(db_url, api_submit_per_minute=2) as env:
        alice, bob = await env.login(ALICE), await env.login(BOB)
        meter = (await env.meters(alice))["apt1-el"]
        url = f"/v1/resident/meters/{meter}/readings"
        codes = [
            # confirmed: a second apart, these are far above a plausible rate
            (
                await env.client.post(url, json={"value": 1.0 + i, "confirm": True}, headers=alice)
            ).status_code
            for i in range(3)
        ]
        assert codes == [201, 201, 429]
        bob_meter = (await env.meters(bob))["apt3-cw"]
        r = await env.client.post(
            f"/v1/resident/meters/{bob_meter}/readings", json={"value": 1.0}, headers=bob
        )
        assert r.status_code == 201


async def test_request_size_limits(env: Env) -> None:
    alice = await env.login(ALICE)
    meter = (await env.meters(alice))["apt1-el"]
    url = f"/v1/resident/meters/{meter}/readings"
    big = b'{"value": 1.0, "pad": "' + b"x" * 100_000 + b'"}'
    r = await env.client.post(
        url, content=big, headers={**alice, "content-type": "application/json"}
    )
    assert r.status_code == 413
    assert r.json()["type"] == "urn:uchet:problem:payload-too-large"

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
        for _ in range(100):
            yield b" " * 1000
        yield b'{"value": 1.0}'

    r = await env.client.post(
        url, content=chunks(), headers={**alice, "content-type": "application/json"}
    )
    assert r.status_code == 413
    # reference files may be larger than plain requests
    doc = {"tariffs": [{"valid_from": "2026-11", "electricity": "5.00"}], "pad": "x" * 100_000}
    r = await env.client.post("/v1/operator/reference", json=doc, headers=env.operator)
    assert r.status_code == 422 and "pad" in r.json()["detail"]  # read, then refused by field


@pytest.mark.parametrize("inside", [True, False])
async def test_submission_window(db_url: str, inside: bool) -> None:
    today = datetime.now(ZoneInfo("Europe/Moscow")).day
    days = f"{today}-{today}" if inside else ("1-1" if today != 1 else "2-2")
    async with app_env(db_url, api_submission_days=days) as env:
        alice = await env.login(ALICE)
        meter = (await env.meters(alice))["apt1-el"]
        r = await env.client.post(
            f"/v1/resident/meters/{meter}/readings", json={"value": 3.0}, headers=alice
        )
        if inside:
            assert r.status_code == 201
        else:
            assert r.status_code == 422
            assert r.json()["reason"] == "outside_window"
            assert "число месяца" in r.json()["detail"]


async def test_logs_hold_no_password_token_or_account(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await env.client.post(
        "/v1/resident/login", json={"account": ALICE[0], "password": "bad-pass-1"}
    )
    alice = await env.login(ALICE)
    token = alice["Authorization"].split()[1]
    meter = (await env.meters(alice))["apt1-el"]
    await env.client.post(
        f"/v1/resident/meters/{meter}/readings", json={"value": 5.0}, headers=alice
    )
    await env.client.post(
        f"/v1/resident/meters/{meter}/readings", json={"value": 4.0}, headers=alice
    )
    r = await env.client.put(
        f"/v1/operator/accounts/{BOB[0]}/password",
        json={"password": "new-secret-99"},
        headers=env.operator,
    )
    assert r.status_code == 200 and r.json()["password"] is None
    r = await env.client.post("/v1/resident/login", json={"account": ALICE[0], "password": "x"})
    # the server's records (httpx's are the test client's own)
    text = "\n".join(
        f"{rec.getMessage()} {rec.args}" for rec in caplog.records if rec.name != "httpx"
    )
    assert "store error" not in text
    for secret in (ALICE[1], "bad-pass-1", "new-secret-99", token, ALICE[0], BOB[0],
                   env.operator["X-API-Key"]):  # fmt: skip
        assert secret not in text
    # and validation errors do not echo the input back
    r = await env.client.post("/v1/resident/login", json={"account": ALICE[0], "password": 7})
    assert r.status_code == 422 and ALICE[0] not in r.text
