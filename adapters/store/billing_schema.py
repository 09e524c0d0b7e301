"""SQL of migration 2: the billing reference data (houses, premises, tariffs, normatives) and
what billing runs write (accruals, house balances, estimates billed per meter, runs)."""

from __future__ import annotations

_SERVICE = (
    "CHECK (service IN ('cold_water', 'hot_water', 'sewage', 'electricity', 'gas', 'heating'))"
)
# A rate is valid from the first day of a month until the next row of the same service: a new
# tariff is a new row, so re-billing an old period still finds the tariff of that period.
_RATE = f"""
    service    text    NOT NULL {_SERVICE},
    valid_from date    NOT NULL CHECK (extract(day FROM valid_from) = 1),
    value      numeric NOT NULL CHECK (value >= 0),
    PRIMARY KEY (service, valid_from)
"""

BILLING_SQL = f"""
CREATE TABLE houses (
    id          text PRIMARY KEY,
    address     text,
    common_area numeric CHECK (common_area >= 0),  -- S_ои, m²; NULL: unknown
    soi_excess  text NOT NULL DEFAULT 'operator' CHECK (soi_excess IN ('operator', 'distribute'))
);

CREATE TABLE premises (
    id             text PRIMARY KEY,
    house_id       text NOT NULL REFERENCES houses (id),
    account        text UNIQUE,                    -- лицевой счёт
    area           numeric NOT NULL CHECK (area > 0),
    residential    boolean NOT NULL DEFAULT true,
    residents      integer NOT NULL DEFAULT 0 CHECK (residents >= 0),
    owners         integer NOT NULL DEFAULT 0 CHECK (owners >= 0),
    meter_possible boolean NOT NULL DEFAULT true
);
CREATE INDEX premises_house ON premises (house_id);

CREATE TABLE premise_normatives (
    premise_id text    NOT NULL REFERENCES premises (id) ON DELETE CASCADE,
    service    text    NOT NULL {_SERVICE},
    value      numeric NOT NULL CHECK (value >= 0),
    PRIMARY KEY (premise_id, service)
);

CREATE TABLE tariffs ({_RATE});
CREATE TABLE normatives ({_RATE});
CREATE TABLE soi_normatives ({_RATE});

-- house meters (ОДПУ) belong to a house; premise meters use meters.premise_id
ALTER TABLE meters ADD COLUMN house_id text REFERENCES houses (id);
ALTER TABLE meters ADD CONSTRAINT meters_one_owner CHECK (premise_id IS NULL OR house_id IS NULL);
CREATE INDEX meters_house ON meters (house_id) WHERE house_id IS NOT NULL;

CREATE TABLE billing_runs (
    id          bigserial PRIMARY KEY,
    period      date NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    premises    integer NOT NULL,
    meters      integer NOT NULL,
    lines       integer NOT NULL,
    total       numeric(16, 2) NOT NULL,
    totals      jsonb NOT NULL,                    -- {{"service": "amount"}}
    load_s      double precision NOT NULL,
    compute_s   double precision NOT NULL,
    write_s     double precision NOT NULL
);
CREATE INDEX billing_runs_period ON billing_runs (period);

-- No foreign key to premises: a run copies hundreds of thousands of lines and the premise
-- ids come from the premises table in the same run.
CREATE TABLE accruals (
    period      date           NOT NULL,
    premise_id  text           NOT NULL,
    service     text           NOT NULL,
    method      text           NOT NULL,
    volume      numeric(20, 6) NOT NULL,
    tariff      numeric        NOT NULL,
    coefficient numeric        NOT NULL,
    amount      numeric(14, 2) NOT NULL,
    explanation text           NOT NULL,
    run_id      bigint         NOT NULL REFERENCES billing_runs (id),
    PRIMARY KEY (period, premise_id, service, method)
);

CREATE TABLE house_balances (
    period             date           NOT NULL,
    house_id           text           NOT NULL,
    service            text           NOT NULL,
    house_volume       numeric(20, 6),             -- NULL: no house meter data
    individual_volume  numeric(20, 6) NOT NULL,
    excess_volume      numeric(20, 6),
    distributed_volume numeric(20, 6) NOT NULL,
    operator_volume    numeric(20, 6) NOT NULL,
    run_id             bigint         NOT NULL REFERENCES billing_runs (id),
    PRIMARY KEY (period, house_id, service)
);

-- Volumes a meter was billed by average or normative (no reading), so that the run which
-- finally gets a reading reverses them (п.61 recalculation).
CREATE TABLE billed_estimates (
    meter_id integer        NOT NULL REFERENCES meters (id),
    period   date           NOT NULL,
    method   text           NOT NULL,
    volume   numeric(20, 6) NOT NULL,
    run_id   bigint         NOT NULL REFERENCES billing_runs (id),
    PRIMARY KEY (meter_id, period)
);
CREATE INDEX billed_estimates_period ON billed_estimates (period);
"""
