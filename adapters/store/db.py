"""Connection pools and the mapping of asyncpg errors onto :class:`core.errors.StoreError`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg

from core.errors import StoreError

# Errors after which the same work may succeed once the server is back.
RETRYABLE = (
    OSError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.ConnectionFailureError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    # the connection's protocol state broke (seen when the server restarts mid-COPY): a new
    # connection from the pool does the same work
    asyncpg.exceptions.InternalClientError,
    TimeoutError,
)


async def connect_pool(
    url: str,
    *,
    min_size: int = 1,
    max_size: int = 4,
    init: Callable[[asyncpg.Connection], Awaitable[None]] | None = None,
) -> asyncpg.Pool:
    """A pool for ``url``; StoreError(retryable) when the server cannot be reached."""
    try:
        pool = await asyncpg.create_pool(
            url, min_size=min_size, max_size=max_size, timeout=10, init=init
        )
    except RETRYABLE as exc:
        raise StoreError(f"cannot connect to PostgreSQL: {exc}", retryable=True) from exc
    except asyncpg.PostgresError as exc:
        raise StoreError(f"PostgreSQL refused the connection: {exc}", retryable=False) from exc
    assert pool is not None
    return pool


@contextlib.asynccontextmanager
async def store_errors(what: str) -> AsyncIterator[None]:
    """Maps asyncpg errors raised inside the block onto StoreError, saying what failed."""
    try:
        yield
    except RETRYABLE as exc:
        raise StoreError(f"{what}: database unavailable: {exc}", retryable=True) from exc
    except asyncpg.PostgresError as exc:
        raise StoreError(f"{what}: {exc}", retryable=False) from exc
