"""The API's health endpoints against a real, migrated database, and the account commands."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from api.app import create_app
from api.cli import main
from api.runtime import migrate_url

pytestmark = pytest.mark.postgres


async def test_health_ready_and_metrics(db_url: str) -> None:
    await migrate_url(db_url)
    app = create_app(db_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/health")).json() == {"status": "ok"}
            ready = await client.get("/ready")
            assert ready.status_code == 200
            assert ready.json()["readings"] == "native range partitioning"
            metrics = await client.get("/metrics")
            assert "uchet_store_readings 0.0" in metrics.text
            assert (await client.get("/v1/operator/stats")).status_code == 401


def test_account_and_key_commands(db_url: str, monkeypatch, capsys) -> None:
    import asyncio

    asyncio.run(migrate_url(db_url))
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)

    async def seed() -> None:
        conn = await asyncpg.connect(db_url)
        try:
            await conn.execute("INSERT INTO houses (id) VALUES ('h')")
            await conn.execute(
                "INSERT INTO premises (id, house_id, account, area) VALUES ('p', 'h', '42', 10)"
            )
        finally:
            await conn.close()

    asyncio.run(seed())
    assert main(["accounts", "set-password", "42", "--generate"]) == 0
    out = capsys.readouterr().out
    assert "пароль задан для лицевого счёта 42" in out
    password = out.strip().splitlines()[-1].removeprefix("пароль: ")
    assert len(password) >= 8
    assert main(["accounts", "set-password", "99", "--generate"]) == 2
    assert "no premise has account '99'" in capsys.readouterr().err

    assert main(["apikeys", "create", "--role", "viewer", "--name", "grafana"]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert key.startswith("uk_")
    assert main(["apikeys", "list"]) == 0
    listing = capsys.readouterr().out
    assert "viewer\tgrafana" in listing and "действует" in listing and key not in listing
    assert main(["apikeys", "revoke", "1"]) == 0
    assert "API-ключ 1 отозван" in capsys.readouterr().out
    assert main(["apikeys", "list"]) == 0
    assert "\tотозван " in capsys.readouterr().out
    assert main(["apikeys", "revoke", "1"]) == 2

    async def stored() -> tuple[str, bytes]:
        conn = await asyncpg.connect(db_url)
        try:
            return (
                await conn.fetchval("SELECT password_hash FROM resident_logins"),
                await conn.fetchval("SELECT key_hash FROM api_keys"),
            )
        finally:
            await conn.close()

    pw_hash, key_hash = asyncio.run(stored())
    # only hashes are stored
    assert pw_hash.startswith("$argon2id$") and password not in pw_hash
    assert key.encode() not in key_hash and len(key_hash) == 32
