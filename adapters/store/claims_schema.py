"""SQL of migration 16: the claims workflow (претензионно-исковая работа) of issue #19 — a
debtor's claims and the events of their stages, each with who recorded it, when, and the
document (the PDF letter kept as it was sent, or a reference such as a court case number)."""

from __future__ import annotations

CLAIMS_SQL = """
CREATE TABLE claims (
    id           bigserial PRIMARY KEY,
    account      text NOT NULL,                       -- the ledger's account key
    stage        text NOT NULL
                 CHECK (stage IN ('notice', 'warning', 'lawyers', 'court', 'writ')),
    opened_on    date NOT NULL,
    stage_on     date NOT NULL,                       -- the day of the current stage
    debt         numeric(14, 2) NOT NULL,             -- overdue debt on that day
    penalty      numeric(14, 2) NOT NULL,             -- penalty due on that day
    closed_on    date,
    close_reason text CHECK (close_reason IN ('paid', 'written_off')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((closed_on IS NULL) = (close_reason IS NULL))
);
-- one open claim per account
CREATE UNIQUE INDEX claims_open_account ON claims (account) WHERE closed_on IS NULL;
CREATE INDEX claims_stage ON claims (stage, stage_on) WHERE closed_on IS NULL;

CREATE TABLE claim_events (
    id          bigserial PRIMARY KEY,
    claim_id    bigint NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    stage       text NOT NULL
                CHECK (stage IN ('notice', 'warning', 'lawyers', 'court', 'writ', 'closed')),
    day         date NOT NULL,
    debt        numeric(14, 2) NOT NULL,
    penalty     numeric(14, 2) NOT NULL,
    note        text NOT NULL DEFAULT '',
    reason      text,                                 -- of a 'closed' event
    document    text,                                 -- a reference given by the operator
    actor       text NOT NULL,                        -- who recorded it (cli:user, web:api_key:N)
    recorded_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (claim_id, stage)
);

-- The letter of a stage as generated (kept: what was sent is what is shown again).
CREATE TABLE claim_documents (
    event_id   bigint PRIMARY KEY REFERENCES claim_events (id) ON DELETE CASCADE,
    name       text NOT NULL,
    sha256     text NOT NULL,
    pdf        bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
"""
