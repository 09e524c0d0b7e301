"""Connections for the code outside the store: pooled or single, with the driver's errors mapped.

The rest of uchet never imports the driver: it names a connection ``Connection`` and gets one
here, and the API maps ``DRIVER_ERRORS`` (raised outside a ``store_errors`` block) as it maps a
StoreError.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeAlias

import asyncpg

from adapters.store.db import store_errors

Connection: TypeAlias = asyncpg.Connection
Pool: TypeAlias = asyncpg.Pool

DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    ConnectionError,
    TimeoutError,
)
"""What the driver raises about a connection or a statement (not every OSError)."""


@asynccontextmanager
async def pooled(
    pool: Pool, what: str, *, wait_s: float | None = None
) -> AsyncIterator[Connection]:
    """A pooled connection. Getting it is inside the error mapping: an outage (refused, reset,
    no free connection within ``wait_s``) is a retryable StoreError naming ``what``."""
    async with store_errors(what), pool.acquire(timeout=wait_s) as conn:
        yield conn


async def connect(url: str, what: str = "connect") -> Connection:
    """One connection of its own to ``url``; the caller closes it."""
    async with store_errors(what):
        conn: Connection = await asyncpg.connect(url)
    return conn


@asynccontextmanager
async def single(url: str, what: str = "connect") -> AsyncIterator[Connection]:
    """One connection of its own to ``url`` (a CLI command), closed on leaving."""
    async with store_errors(what):
        conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


async def ping(pool: Pool, *, wait_s: float) -> None:
    """Raises StoreError unless a connection is free within ``wait_s`` and answers."""
    async with pooled(pool, "ready", wait_s=wait_s) as conn:
        await conn.fetchval("SELECT 1")


async def create_database(server_url: str, name: str) -> None:
    """``CREATE DATABASE name`` on the server of ``server_url``."""
    if '"' in name or "\x00" in name:
        raise ValueError(f"database name {name!r}")
    async with single(server_url, "create database") as conn, store_errors("create database"):
        await conn.execute(f'CREATE DATABASE "{name}"')
