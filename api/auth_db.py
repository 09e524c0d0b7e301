"""Authentication over the store: resident logins and operator API keys.

The queries are in ``adapters/store/auth.py``; here the keys are made and hashed
(``api/security.py``) before the store sees only their digest.
"""

from __future__ import annotations

from adapters.store import auth as store
from adapters.store.auth import (
    ApiKey,
    Login,
    find_login,
    list_api_keys,
    revoke_api_key,
    set_password,
    token_premise,
)
from adapters.store.connections import Connection
from api.security import ROLES, key_digest, new_api_key
from core.errors import ConfigError

__all__ = [
    "ApiKey",
    "Login",
    "create_api_key",
    "find_login",
    "key_role",
    "list_api_keys",
    "revoke_api_key",
    "set_password",
    "token_premise",
]


async def create_api_key(conn: Connection, *, name: str, role: str) -> tuple[int, str]:
    """A new key: (id, the key). The key is shown once; only its hash is stored."""
    if role not in ROLES:
        raise ConfigError(f"role {role!r} is not one of {', '.join(ROLES)}")
    key = new_api_key()
    key_id = await store.insert_api_key(conn, name=name, role=role, key_hash=key_digest(key))
    return key_id, key


async def key_role(conn: Connection, key: str) -> tuple[int, str] | None:
    """(id, role) of a valid, unrevoked key."""
    return await store.key_role(conn, key_digest(key))
