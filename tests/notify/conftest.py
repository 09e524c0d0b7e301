"""A connection to a fresh, migrated test database for the notification tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from api.runtime import migrate_url
from core.notify.backoff import RetryPolicy

FAST = RetryPolicy(max_attempts=3, base_seconds=0, cap_seconds=0)  # retried at once


@pytest.fixture
async def conn(db_url: str) -> AsyncIterator[asyncpg.Connection]:
    await migrate_url(db_url)
    c = await asyncpg.connect(db_url)
    try:
        yield c
    finally:
        await c.close()
