"""Ending a resident's sessions on the server (logout): tokens and web sessions name the
account's token version; raising it makes every one issued before it fail, in this process
at once and in every other through the ``uchet_accounts`` notification (migration 7)."""

from __future__ import annotations

import asyncpg

from adapters.store.db import store_errors


async def end_sessions(conn: asyncpg.Connection, account: str) -> bool:
    """Every token and web session of ``account`` stops working; False if it has no login."""
    async with store_errors("end sessions"):
        status = await conn.execute(
            "UPDATE resident_logins SET token_version = token_version + 1, updated_at = now()"
            " WHERE account = $1",
            account,
        )
    return status != "UPDATE 0"
