"""The SQL of the schema, one migration per entry; never edit an applied one, append."""

from __future__ import annotations

from adapters.store.askue_schema import ASKUE_SQL
from adapters.store.auth_schema import AUTH_NOTIFY_SQL, AUTH_SQL
from adapters.store.billing_exact_schema import BILLING_EXACT_SQL
from adapters.store.billing_schema import BILLING_SQL
from adapters.store.billing_speed_schema import BILLING_SPEED_SQL
from adapters.store.claims_schema import CLAIMS_SQL
from adapters.store.exclusions_schema import EXCLUSIONS_SQL
from adapters.store.health_schema import HEALTH_SQL
from adapters.store.intake_schema import INTAKE_SQL
from adapters.store.ledger_month_schema import LEDGER_MONTH_SQL
from adapters.store.ledger_schema import LEDGER_SQL
from adapters.store.meters_search_schema import METERS_SEARCH_SQL
from adapters.store.notify_prefs_schema import NOTIFY_PREFS_SQL
from adapters.store.notify_schema import NOTIFY_SQL
from adapters.store.opening_schema import OPENING_SQL
from adapters.store.property_schema import PROPERTY_SQL
from adapters.store.reconcile_schema import RECONCILE_SQL
from adapters.store.timescale_schema import DAILY_SQL
from adapters.store.vee_coverage_schema import VEE_COVERAGE_SQL
from adapters.store.vee_schema import VEE_SQL

_READINGS_COLUMNS = """
    meter_id    integer          NOT NULL,  -- meters.id; no FK: the registry issues ids
    ts          timestamptz      NOT NULL,
    value       double precision NOT NULL,
    kind        smallint         NOT NULL DEFAULT 0,
    flags       integer          NOT NULL DEFAULT 0,
    end_ts      timestamptz,
    received_at timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (meter_id, ts)
"""

# Kept small on purpose: the only TimescaleDB-specific SQL (covered by a test that runs when
# UCHET_TEST_TIMESCALE_URL is given).
TIMESCALE_SQL = f"""
CREATE EXTENSION IF NOT EXISTS timescaledb;
CREATE TABLE readings ({_READINGS_COLUMNS});
SELECT create_hypertable('readings', 'ts', chunk_time_interval => interval '7 days');
ALTER TABLE readings SET (timescaledb.compress, timescaledb.compress_segmentby = 'meter_id',
                          timescaledb.compress_orderby = 'ts');
SELECT add_compression_policy('readings', interval '30 days');
CREATE MATERIALIZED VIEW readings_daily WITH (timescaledb.continuous) AS
    SELECT meter_id, time_bucket(interval '1 day', ts) AS day,
           min(value) AS min_value, max(value) AS max_value, last(value, ts) AS last_value,
           sum(value) FILTER (WHERE kind = 1) AS interval_sum, count(*) AS n
    FROM readings GROUP BY meter_id, day WITH NO DATA;
SELECT add_continuous_aggregate_policy('readings_daily', start_offset => interval '40 days',
    end_offset => interval '1 hour', schedule_interval => interval '1 hour');
"""

# Monthly partitions are created on demand by the writer (adapters.store.partitions).
NATIVE_SQL = f"CREATE TABLE readings ({_READINGS_COLUMNS}) PARTITION BY RANGE (ts);"


def readings_ddl(*, timescale: bool) -> str:
    return TIMESCALE_SQL if timescale else NATIVE_SQL


_V1 = """
CREATE TABLE meters (
    id              serial PRIMARY KEY,
    source          text NOT NULL,
    external_id     text NOT NULL,
    channel         text NOT NULL,
    service         text NOT NULL,
    unit            text NOT NULL,
    premise_id      text,                -- NULL: unbound, an operator binds it later
    capacity_digits smallint,
    max_rate        double precision,    -- canonical unit per hour; NULL: service default
    installed       date,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, external_id, channel)
);
CREATE INDEX meters_premise ON meters (premise_id);

CREATE TABLE quarantine (
    id          bigserial PRIMARY KEY,
    received_at timestamptz NOT NULL DEFAULT now(),
    source      text NOT NULL,
    reason      text NOT NULL,
    detail      text NOT NULL,
    meter       text,
    channel     text,
    payload     bytea NOT NULL,
    replayed_at timestamptz
);
CREATE INDEX quarantine_reason ON quarantine (reason) WHERE replayed_at IS NULL;
CREATE INDEX quarantine_meter ON quarantine (meter, channel) WHERE replayed_at IS NULL;

CREATE TABLE conflicts (
    id           bigserial PRIMARY KEY,
    meter_id     integer NOT NULL REFERENCES meters (id),
    ts           timestamptz NOT NULL,
    stored_value double precision NOT NULL,
    new_value    double precision NOT NULL,
    source       text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ingest_counters (
    name  text PRIMARY KEY,
    value bigint NOT NULL
);
"""

MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "readings_registry_quarantine", _V1),
    (2, "billing", BILLING_SQL),
    (3, "api_auth", AUTH_SQL),
    (4, "vee_anomalies", VEE_SQL),
    (5, "askue_files", ASKUE_SQL),
    (6, "device_health", HEALTH_SQL),
    (7, "account_notify", AUTH_NOTIFY_SQL),
    (8, "intake_identity", INTAKE_SQL),
    (9, "reading_exclusions", EXCLUSIONS_SQL),
    (10, "billing_exact_estimates", BILLING_EXACT_SQL),
    (11, "ledger", LEDGER_SQL),
    (12, "readings_daily_realtime", DAILY_SQL),
    (13, "property_register", PROPERTY_SQL),
    (14, "notifications", NOTIFY_SQL),
    (15, "vee_balance_coverage", VEE_COVERAGE_SQL),
    (16, "claims", CLAIMS_SQL),
    (17, "notify_preferences", NOTIFY_PREFS_SQL),
    (18, "reconcile_accounts", RECONCILE_SQL),
    (19, "billing_runs_speed", BILLING_SPEED_SQL),
    # 20: not used (reserved for late readings of #16, which needed no schema change)
    (21, "meters_search", METERS_SEARCH_SQL),
    (22, "ledger_month_statements", LEDGER_MONTH_SQL),
    (23, "opening_debts_updated", OPENING_SQL),
]
