"""SQL of migration 14: notifications to residents (issue 21) — contacts, preferences, outbox.

One outbox row per (account, kind, period, channel): enqueueing the same event again does
nothing, so a resident is told once. The sender claims rows (status ``sending`` with a lease),
sends with the row's idempotency key and marks them; a row whose lease ran out (its sender
died) is claimed again and re-sent with the same key, which the receiver dedupes (webhook
header, SMTP Message-ID).
"""

from __future__ import annotations

NOTIFY_SQL = """
CREATE TABLE notify_contacts (
    account    text NOT NULL,                 -- premises.account (лицевой счёт)
    channel    text NOT NULL CHECK (channel IN ('email', 'webhook')),
    address    text NOT NULL,                 -- e-mail, or the phone/chat id for the gateway
    confirmed  boolean NOT NULL DEFAULT false,  -- nothing is sent to an unconfirmed address
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, channel)
);

-- A missing row means opted in (a confirmed contact gets every kind); enabled=false opts out.
CREATE TABLE notify_prefs (
    account    text NOT NULL,
    channel    text NOT NULL CHECK (channel IN ('email', 'webhook')),
    kind       text NOT NULL,
    enabled    boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account, channel, kind)
);

CREATE TABLE notify_outbox (
    id          bigserial PRIMARY KEY,
    account     text NOT NULL,
    kind        text NOT NULL,
    period      text NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('email', 'webhook')),
    address     text NOT NULL,
    idem_key    text NOT NULL UNIQUE,
    subject     text NOT NULL,
    body_text   text NOT NULL,
    body_html   text NOT NULL,
    params      jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'dead')),
    attempts    integer NOT NULL DEFAULT 0,
    next_at     timestamptz NOT NULL DEFAULT now(),
    lease_until timestamptz,
    last_error  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    UNIQUE (account, kind, period, channel)
);
CREATE INDEX notify_outbox_due ON notify_outbox (next_at) WHERE status IN ('pending', 'sending');
"""
