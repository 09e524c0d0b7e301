"""A database outage: every route answers 503 with Retry-After (never 500 and a traceback),
and the app serves again once the database is back. The outage is real: the app reaches the
real PostgreSQL through a forwarder that the test cuts (tests/api/proxy.py)."""

from __future__ import annotations

import logging

import httpx
import pytest

from api.app import create_app
from tests.api.conftest import ALICE, prepare, settings
from tests.api.proxy import Proxy

pytestmark = pytest.mark.postgres


async def test_store_outage_is_503_with_retry_after_on_every_route(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    operator, viewer = await prepare(db_url)
    proxy = Proxy(db_url)
    await proxy.start()
    app = create_app(proxy.url, settings=settings())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            login = {"account": ALICE[0], "password": ALICE[1]}
            r = await client.post("/v1/resident/login", json=login)
            assert r.status_code == 200, r.text
            resident = {"Authorization": f"Bearer {r.json()['access_token']}"}
            ops, view = {"X-API-Key": operator}, {"X-API-Key": viewer}
            r = await client.get("/v1/resident/meters", headers=resident)
            meter = r.json()[0]["id"]
            reading = {"value": "1.5"}
            calls = [
                ("POST", "/v1/resident/login", {"json": login}),
                ("GET", "/v1/resident/meters", {"headers": resident}),
                ("GET", "/v1/resident/me", {"headers": resident}),
                ("GET", "/v1/resident/accruals", {"headers": resident}),
                ("GET", f"/v1/resident/meters/{meter}/readings", {"headers": resident}),
                (
                    "POST",
                    f"/v1/resident/meters/{meter}/readings",
                    {"headers": resident, "json": reading},
                ),
                ("GET", "/v1/operator/meters", {"headers": view}),
                ("GET", "/v1/operator/quarantine", {"headers": view}),
                ("GET", "/v1/operator/anomalies", {"headers": view}),
                ("POST", "/v1/operator/billing/2026-01", {"headers": ops}),
                (
                    "PUT",
                    f"/v1/operator/accounts/{ALICE[0]}/password",
                    {"headers": ops, "json": {"password": "another-password-1"}},
                ),
            ]
            for method, path, kw in calls:
                r = await client.request(method, path, **kw)
                assert r.status_code < 500, (path, r.status_code, r.text)

            await proxy.cut()
            caplog.clear()
            with caplog.at_level(logging.INFO):
                for method, path, kw in calls:
                    r = await client.request(method, path, **kw)
                    assert r.status_code == 503, (path, r.status_code, r.text)
                    assert r.headers["retry-after"] == "5", path
                    assert r.headers["content-type"] == "application/problem+json"
                    assert r.json()["type"] == "urn:uchet:problem:store-unavailable", path
                r = await client.get("/ready")
                assert r.status_code == 503
                r = await client.get("/metrics")  # the process metrics are still served
                assert r.status_code == 200 and "uchet_http_requests" in r.text
            logged = [rec for rec in caplog.records if rec.name.startswith("api")]
            assert logged, "the outage is logged"
            assert not [rec for rec in logged if rec.exc_info], "no traceback per request"
            text = "\n".join(rec.getMessage() for rec in logged)
            assert ALICE[0] not in text  # the password route's path names the account
            assert "{account}" in text

            await proxy.start()
            for method, path, kw in calls[:-1]:
                r = await client.request(method, path, **kw)
                assert r.status_code < 500, (path, r.status_code, r.text)
    await proxy.cut()
