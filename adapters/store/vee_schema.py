"""SQL of migration 4: batch VEE runs, anomalies, the daily house balance and estimates."""

from __future__ import annotations

VEE_SQL = """
CREATE TABLE vee_runs (
    id          bigserial PRIMARY KEY,
    period      date NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL DEFAULT now(),
    meters      integer NOT NULL,
    readings    bigint NOT NULL,
    off_grid    bigint NOT NULL,      -- register readings not on the hourly grid (not used)
    anomalies   integer NOT NULL,
    estimates   integer NOT NULL,
    load_s      double precision NOT NULL,
    compute_s   double precision NOT NULL,
    write_s     double precision NOT NULL
);
CREATE INDEX vee_runs_period ON vee_runs (period);

CREATE TABLE anomalies (
    id        bigserial PRIMARY KEY,
    run_id    bigint NOT NULL REFERENCES vee_runs (id) ON DELETE CASCADE,
    period    date NOT NULL,
    type      text NOT NULL,
    severity  text NOT NULL,
    service   text NOT NULL,
    meter_id  integer REFERENCES meters (id),
    house_id  text,
    starts    timestamptz NOT NULL,
    ends      timestamptz NOT NULL,
    evidence  jsonb NOT NULL
);
CREATE INDEX anomalies_period ON anomalies (period, type);
CREATE INDEX anomalies_house ON anomalies (house_id, period);
CREATE INDEX anomalies_meter ON anomalies (meter_id);

-- House meter (ОДПУ) vs the sum of its premises, per day: what the dashboard charts.
CREATE TABLE vee_house_balance (
    period          date NOT NULL,
    house_id        text NOT NULL,
    service         text NOT NULL,
    day             date NOT NULL,
    house_volume    double precision,   -- NULL: unknown that day
    premises_volume double precision NOT NULL,
    ratio           double precision,   -- (house - premises) / house
    run_id          bigint NOT NULL REFERENCES vee_runs (id) ON DELETE CASCADE,
    PRIMARY KEY (period, house_id, service, day)
);

-- Estimated interval values: never in `readings`, so an actual value always wins.
CREATE TABLE estimates (
    meter_id integer NOT NULL REFERENCES meters (id),
    ts       timestamptz NOT NULL,
    value    double precision NOT NULL,
    method   text NOT NULL,
    run_id   bigint NOT NULL REFERENCES vee_runs (id) ON DELETE CASCADE,
    PRIMARY KEY (meter_id, ts)
);
"""
