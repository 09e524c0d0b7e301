"""SQL of migration 8: idempotent quarantine and conflicts, and the health of gateway sources.

A redelivered input (an MQTT message committed but not yet acknowledged when the connection
dropped) must not add a second quarantine or conflict row. ``quarantine.identity`` is the
sha256 of (source, reason, payload), unique among the rows not yet replayed; a conflict is
unique on (meter, ts, new value). Existing repeats are folded into their first row.
"""

from __future__ import annotations

INTAKE_SQL = """
ALTER TABLE quarantine ADD COLUMN identity bytea;
UPDATE quarantine SET identity = sha256(
    convert_to(source, 'UTF8') || '\\x00'::bytea || convert_to(reason, 'UTF8')
    || '\\x00'::bytea || payload);
DELETE FROM quarantine q USING quarantine o
 WHERE q.replayed_at IS NULL AND o.replayed_at IS NULL AND q.identity = o.identity
   AND q.id > o.id;
ALTER TABLE quarantine ALTER COLUMN identity SET NOT NULL;
CREATE UNIQUE INDEX quarantine_identity ON quarantine (identity) WHERE replayed_at IS NULL;

DELETE FROM conflicts c USING conflicts o
 WHERE c.meter_id = o.meter_id AND c.ts = o.ts AND c.new_value = o.new_value AND c.id > o.id;
CREATE UNIQUE INDEX conflicts_input ON conflicts (meter_id, ts, new_value);

CREATE TABLE source_health (
    gateway     text NOT NULL,          -- the gateway (its MQTT client id)
    source      text NOT NULL,          -- mqtt | modbus | inbox | vee
    state       text NOT NULL,          -- running | restarting | stopped | failed
    restarts    integer NOT NULL,
    last_error  text,
    since       timestamptz NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (gateway, source)
);
"""
