"""The API's health endpoints against a real, migrated database."""

from __future__ import annotations

import httpx
import pytest

from api.app import create_app
from api.runtime import migrate_url

pytestmark = pytest.mark.postgres


async def test_health_ready_and_stats(db_url: str) -> None:
    await migrate_url(db_url)
    app = create_app(db_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/health")).json() == {"status": "ok"}
            ready = await client.get("/ready")
            assert ready.status_code == 200
            assert ready.json()["readings"] == "native range partitioning"
            stats = (await client.get("/stats")).json()
            assert stats["readings"] == 0 and stats["meters"] == 0
