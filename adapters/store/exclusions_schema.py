"""SQL of migration 9: operators' exclusions of readings (who, why, when).

An excluded reading is kept in ``readings`` with flag EXCLUDED (512, core.codes.Flag) and not
billed; every exclusion and every undoing of one is a row here, never updated or deleted.
"""

from __future__ import annotations

EXCLUSIONS_SQL = """
CREATE TABLE reading_exclusions (
    id        bigserial PRIMARY KEY,
    meter_id  integer NOT NULL REFERENCES meters (id),
    ts        timestamptz NOT NULL,
    value     double precision NOT NULL,   -- the reading's value at the time
    action    text NOT NULL CHECK (action IN ('exclude', 'include')),
    reason    text NOT NULL CHECK (length(btrim(reason)) > 0 AND length(reason) <= 1000),
    actor     text NOT NULL CHECK (length(actor) BETWEEN 1 AND 200),
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX reading_exclusions_reading ON reading_exclusions (meter_id, ts, id);
CREATE INDEX reading_exclusions_at ON reading_exclusions (at DESC);
"""
