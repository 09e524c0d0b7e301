"""SQL of migration 17: notification preferences, confirmed e-mail, bounces (issue #21).

A contact that bounced (a permanent SMTP refusal at send, or a DSN report read by
``uchet notify bounces``) is ``undeliverable`` until the resident changes the address; each
bounce is kept in ``notify_bounces``. ``bounced`` marks the outbox rows that bounced;
``lease`` is the token of the claim holding a row being sent."""

from __future__ import annotations

NOTIFY_PREFS_SQL = """
ALTER TABLE notify_contacts ADD COLUMN confirmed_at timestamptz;
ALTER TABLE notify_contacts ADD COLUMN undeliverable_at timestamptz;
ALTER TABLE notify_contacts ADD COLUMN undeliverable_reason text;
CREATE INDEX notify_contacts_address ON notify_contacts (lower(address));

CREATE TABLE notify_bounces (
    id         bigserial PRIMARY KEY,
    address    text NOT NULL,
    message_id bigint,                       -- notify_outbox.id, when known
    source     text NOT NULL CHECK (source IN ('smtp', 'dsn')),
    permanent  boolean NOT NULL,
    status     text NOT NULL,                -- SMTP code or DSN status (5.1.1)
    reason     text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notify_bounces_address ON notify_bounces (lower(address));

ALTER TABLE notify_outbox ADD COLUMN bounced boolean NOT NULL DEFAULT false;
CREATE INDEX notify_outbox_status ON notify_outbox (status, id);
CREATE INDEX notify_outbox_account ON notify_outbox (account, id);

-- the claim holding a 'sending' row: a sender whose lease ran out (another reclaimed the
-- row) can no longer mark it
CREATE SEQUENCE notify_outbox_lease;
ALTER TABLE notify_outbox ADD COLUMN lease bigint;

-- the rate limit of confirmation e-mails looks at the last hour's
CREATE INDEX notify_outbox_confirm_recent ON notify_outbox (created_at)
    WHERE kind = 'email_confirm';
"""
