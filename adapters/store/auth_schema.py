"""SQL of migration 3: who may use the HTTP API — residents (лицевой счёт + password) and
operators' API keys with roles. Only hashes are stored, never a password or a key."""

from __future__ import annotations

AUTH_SQL = """
-- A resident logs in with the account (premises.account, лицевой счёт). No foreign key: a
-- reference load may move an account between premises; the login joins on it.
CREATE TABLE resident_logins (
    account        text PRIMARY KEY,
    password_hash  text        NOT NULL,             -- argon2id, PHC string
    token_version  integer     NOT NULL DEFAULT 1,   -- bumped on reset: old tokens stop working
    updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
    id         serial PRIMARY KEY,
    name       text        NOT NULL,
    role       text        NOT NULL CHECK (role IN ('viewer', 'operator')),
    key_hash   bytea       NOT NULL UNIQUE,          -- sha256 of the key (256 random bits)
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
"""
