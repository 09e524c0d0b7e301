"""The queries of authentication: resident logins and operator API keys (migration 3).

Keys are stored and looked up by their digest only; hashing and key generation stay with the
caller (api/security.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from adapters.store.connections import Connection
from adapters.store.db import store_errors


@dataclass(frozen=True, slots=True)
class Login:
    premise_id: str
    password_hash: str | None  # None: the account exists but has no password yet
    token_version: int


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


async def find_login(conn: Connection, account: str) -> Login | None:
    """The premise of an account and its password hash; None when no premise has it."""
    async with store_errors("find login"):
        row = await conn.fetchrow(
            "SELECT p.id, l.password_hash, coalesce(l.token_version, 0) AS version"
            " FROM premises p LEFT JOIN resident_logins l USING (account) WHERE p.account = $1",
            account,
        )
    return None if row is None else Login(row["id"], row["password_hash"], row["version"])


async def token_premise(conn: Connection, account: str, version: int) -> str | None:
    """The premise of a token's account, if the token's version is still the current one."""
    async with store_errors("check token"):
        return await conn.fetchval(  # type: ignore[no-any-return]
            "SELECT p.id FROM resident_logins l JOIN premises p USING (account)"
            " WHERE l.account = $1 AND l.token_version = $2",
            account,
            version,
        )


async def set_password(conn: Connection, account: str, password_hash: str) -> bool:
    """Sets (or resets) the password of an account; tokens issued before stop working.

    False when no premise has this account.
    """
    async with store_errors("set password"), conn.transaction():
        if await conn.fetchval("SELECT 1 FROM premises WHERE account = $1", account) is None:
            return False
        await conn.execute(
            "INSERT INTO resident_logins (account, password_hash) VALUES ($1, $2)"
            " ON CONFLICT (account) DO UPDATE SET password_hash = excluded.password_hash,"
            " token_version = resident_logins.token_version + 1, updated_at = now()",
            account,
            password_hash,
        )
    return True


async def insert_api_key(conn: Connection, *, name: str, role: str, key_hash: bytes) -> int:
    """Stores a new key by its digest; its id."""
    async with store_errors("create api key"):
        key_id = await conn.fetchval(
            "INSERT INTO api_keys (name, role, key_hash) VALUES ($1, $2, $3) RETURNING id",
            name,
            role,
            key_hash,
        )
    return int(key_id)


async def key_role(conn: Connection, key_hash: bytes) -> tuple[int, str] | None:
    """(id, role) of the valid, unrevoked key with this digest."""
    async with store_errors("check api key"):
        row = await conn.fetchrow(
            "SELECT id, role FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL", key_hash
        )
    return None if row is None else (row["id"], row["role"])


async def key_role_by_id(conn: Connection, key_id: int) -> str | None:
    """The role of key ``key_id`` while it is not revoked (an operator's web session)."""
    async with store_errors("check session key"):
        role = await conn.fetchval(
            "SELECT role FROM api_keys WHERE id = $1 AND revoked_at IS NULL", key_id
        )
    return None if role is None else str(role)


async def list_api_keys(conn: Connection) -> list[ApiKey]:
    async with store_errors("list api keys"):
        rows = await conn.fetch(
            "SELECT id, name, role, created_at, revoked_at FROM api_keys ORDER BY id"
        )
    return [ApiKey(**dict(r)) for r in rows]


async def revoke_api_key(conn: Connection, key_id: int) -> bool:
    async with store_errors("revoke api key"):
        status = await conn.execute(
            "UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", key_id
        )
    return bool(status != "UPDATE 0")
