"""SQL of migration 11: the ledger — payments (idempotent on the bank's payment id), payments
for unknown accounts kept apart, rejected register rows, opening debts and key rates."""

from __future__ import annotations

LEDGER_SQL = """
CREATE TABLE payments (
    id          text PRIMARY KEY,                   -- the bank's payment id (prefixed per bank)
    account     text NOT NULL,                      -- premises.account (or premises.id)
    day         date NOT NULL,
    amount      numeric(14, 2) NOT NULL CHECK (amount > 0),
    period      date CHECK (extract(day FROM period) = 1),  -- the month the payer named
    target      text NOT NULL DEFAULT 'charges' CHECK (target IN ('charges', 'penalty')),
    source      text NOT NULL,                      -- file name, or 'manual'
    line        integer,
    imported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_account ON payments (account, day);
CREATE INDEX payments_day ON payments (day);

-- A payment naming an account no premise has: kept here until an operator assigns it.
CREATE TABLE unassigned_payments (
    id          text PRIMARY KEY,
    account     text NOT NULL,                      -- as the bank gave it
    day         date NOT NULL,
    amount      numeric(14, 2) NOT NULL CHECK (amount > 0),
    period      date,
    target      text NOT NULL DEFAULT 'charges',
    source      text NOT NULL,
    line        integer,
    received_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payment_rejects (
    id          bigserial PRIMARY KEY,
    source      text NOT NULL,
    line        integer NOT NULL,
    reason      text NOT NULL,
    detail      text NOT NULL,
    raw         text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, line, raw)
);

-- Debt of periods before the first accrual in the store (owed like a charge of its period).
CREATE TABLE opening_debts (
    account text NOT NULL,
    period  date NOT NULL CHECK (extract(day FROM period) = 1),
    amount  numeric(14, 2) NOT NULL,
    PRIMARY KEY (account, period)
);

-- Bank of Russia key-rate decisions added by operators (on top of the shipped table).
CREATE TABLE key_rates (
    valid_from date PRIMARY KEY,
    percent    numeric(5, 2) NOT NULL CHECK (percent >= 0),
    added_at   timestamptz NOT NULL DEFAULT now()
);
"""
