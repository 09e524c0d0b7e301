"""An API app on a fresh, migrated database with the example house loaded, two residents with
passwords and two API keys (operator, viewer)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from adapters.billing import parse_reference
from adapters.store.billing_load import load_reference
from api.app import create_app
from api.auth_db import create_api_key, set_password
from api.runtime import migrate_url
from api.security import hash_password
from api.settings import ApiSettings

ROOT = Path(__file__).resolve().parents[2]
HOUSE = ROOT / "docs" / "examples" / "house.json"
SECRET = "test-secret-" + "x" * 40

# The example house: two residents, each with their own premise and meters.
ALICE = ("6900000001", "alice-password-1")  # premise h1-1: apt1-cw, apt1-hw, apt1-el
BOB = ("6900000003", "bob-password-22")  # premise h1-3: apt3-cw, askue 00042


@dataclass
class Env:
    app: FastAPI
    client: httpx.AsyncClient
    url: str
    operator: dict[str, str]
    viewer: dict[str, str]

    async def login(self, who: tuple[str, str]) -> dict[str, str]:
        r = await self.client.post(
            "/v1/resident/login", json={"account": who[0], "password": who[1]}
        )
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    async def meters(self, headers: dict[str, str]) -> dict[str, int]:
        r = await self.client.get("/v1/resident/meters", headers=headers)
        assert r.status_code == 200, r.text
        return {m["serial"]: m["id"] for m in r.json()}


def settings(**changes: object) -> ApiSettings:
    base: dict[str, object] = {
        "api_secret": SECRET,
        "api_login_per_minute": 1000,
        "api_submit_per_minute": 1000,
    }
    base.update(changes)
    return ApiSettings(**base)  # type: ignore[arg-type]


async def prepare(url: str) -> tuple[str, str]:
    """Migrates, loads the example house, sets two passwords; returns (operator, viewer) keys."""
    await migrate_url(url)
    conn = await asyncpg.connect(url)
    try:
        data = parse_reference(json.loads(HOUSE.read_text(encoding="utf-8")), name="house")
        await load_reference(conn, data)
        for account, password in (ALICE, BOB):
            assert await set_password(conn, account, hash_password(password))
        _, operator = await create_api_key(conn, name="ops", role="operator")
        _, viewer = await create_api_key(conn, name="dashboard", role="viewer")
    finally:
        await conn.close()
    return operator, viewer


@pytest.fixture
async def env(db_url: str) -> AsyncIterator[Env]:
    operator, viewer = await prepare(db_url)
    app = create_app(db_url, settings=settings())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield Env(app, client, db_url, {"X-API-Key": operator}, {"X-API-Key": viewer})
