"""SQL of migration 6: the last known health of polled devices, written by the gateways."""

from __future__ import annotations

HEALTH_SQL = """
CREATE TABLE device_health (
    source               text NOT NULL,          -- 'modbus'
    device               text NOT NULL,          -- the meter id of the device list
    bus                  text NOT NULL,          -- host:port of its TCP gateway
    state                text NOT NULL,          -- unknown | online | offline
    since                timestamptz NOT NULL,
    consecutive_failures integer NOT NULL,
    last_error           text,
    last_success         timestamptz,
    requests             bigint NOT NULL,
    gateway              text NOT NULL,          -- the uchet gateway (MQTT client id) that polls it
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, device)
);
"""
