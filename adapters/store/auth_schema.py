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

# Migration 7: running API processes cache which premise a resident token opens; a change of
# a login (password reset: new token version) or of an account's premise, made anywhere,
# tells them at once on the channel ``uchet_accounts`` (payload: the account).
AUTH_NOTIFY_SQL = """
CREATE FUNCTION uchet_notify_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.account IS NOT NULL THEN
        PERFORM pg_notify('uchet_accounts', OLD.account);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.account IS NOT NULL THEN
        PERFORM pg_notify('uchet_accounts', NEW.account);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER resident_logins_notify AFTER UPDATE OR DELETE ON resident_logins
    FOR EACH ROW EXECUTE FUNCTION uchet_notify_account();
CREATE TRIGGER premises_notify AFTER UPDATE OF id, account ON premises
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.account IS DISTINCT FROM NEW.account)
    EXECUTE FUNCTION uchet_notify_account();
CREATE TRIGGER premises_notify_delete AFTER DELETE ON premises
    FOR EACH ROW EXECUTE FUNCTION uchet_notify_account();
"""
