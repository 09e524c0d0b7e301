"""A connection to a fresh, migrated test database for the notification tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from api.runtime import migrate_url
from core.notify.backoff import RetryPolicy

FAST = RetryPolicy(max_attempts=3, base_seconds=0, cap_seconds=0)  # retried at once
PUBLIC_URL = "https://uchet.example"  # where the links of the messages point


@pytest.fixture(autouse=True)
def public_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """UCHET_NOTIFY_PUBLIC_URL set for the API in process (its settings read once: cleared)."""
    from api.routes import notify

    monkeypatch.setenv("UCHET_NOTIFY_PUBLIC_URL", PUBLIC_URL)
    notify._settings.cache_clear()
    yield PUBLIC_URL
    notify._settings.cache_clear()


@pytest.fixture
async def conn(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    await migrate_url(db_url)
    c = await asyncpg.connect(db_url)
    try:
        yield c
    finally:
        await c.close()
