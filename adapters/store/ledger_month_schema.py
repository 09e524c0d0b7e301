"""SQL of migration 22: a month's settled statements kept for the debtors views (issue #19).

``ledger_months`` says when each saved month was computed and from which data;
``ledger_month_accounts`` holds one row per account (money in kopecks), one list partition per
month so that re-saving a month swaps a freshly loaded partition in whole;
``ledger_month_collection`` holds the collection rate's sums per house and period.
"""

from __future__ import annotations

LEDGER_MONTH_SQL = """
CREATE TABLE ledger_months (
    month         date PRIMARY KEY CHECK (extract(day FROM month) = 1),
    as_of         date NOT NULL,              -- the day the statements are settled as of
    computed_at   timestamptz NOT NULL DEFAULT now(),
    data_as_of    timestamptz NOT NULL,       -- the snapshot the inputs were read in
    payments      bigint NOT NULL,            -- payments dated by as_of in that snapshot
    last_run      bigint,                     -- the newest billing run (accruals) then
    accounts      integer NOT NULL,
    debtors       integer NOT NULL,
    seconds       double precision NOT NULL
);

CREATE TABLE ledger_month_accounts (
    month             date NOT NULL,
    account           text COLLATE "C" NOT NULL,
    house_id          text,
    opening_balance   bigint NOT NULL,
    charged           bigint NOT NULL,
    paid              bigint NOT NULL,
    penalty_month     bigint NOT NULL,
    penalty_total     bigint NOT NULL,
    penalty_paid      bigint NOT NULL,
    closing_balance   bigint NOT NULL,
    debt_0_30         bigint NOT NULL,
    debt_31_90        bigint NOT NULL,
    debt_91_180       bigint NOT NULL,
    debt_181          bigint NOT NULL,
    debt              bigint NOT NULL,        -- the buckets' sum
    penalty_due       bigint NOT NULL,        -- penalty accrued less paid, not below zero
    owed              bigint NOT NULL,        -- debt + penalty_due: > 0 is a debtor
    oldest_due        date,                   -- the oldest unpaid period's due date
    oldest_delay_days integer NOT NULL,
    PRIMARY KEY (month, account)
) PARTITION BY LIST (month);
CREATE INDEX ledger_month_debtors ON ledger_month_accounts (month, owed DESC, account)
    WHERE owed > 0;
CREATE INDEX ledger_month_house_debtors
    ON ledger_month_accounts (month, house_id, owed DESC, account) WHERE owed > 0;

CREATE TABLE ledger_month_collection (
    month    date NOT NULL,
    house_id text,                            -- NULL: accounts of no premise
    period   date NOT NULL,
    charged  bigint NOT NULL,
    paid     bigint NOT NULL
);
CREATE INDEX ledger_month_collection_month ON ledger_month_collection (month, period);

-- payments recorded after a month was saved: the views warn
CREATE INDEX payments_imported_at ON payments (imported_at);
"""
