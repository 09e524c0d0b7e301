"""SQL of migration 5: imported ASKUE files and the corrections later files made."""

from __future__ import annotations

ASKUE_SQL = """
CREATE TABLE askue_files (
    id            bigserial PRIMARY KEY,
    sender_inn    text NOT NULL,
    day           date NOT NULL,
    number        bigint NOT NULL,
    file_name     text NOT NULL,
    sha256        text NOT NULL,
    imported_at   timestamptz NOT NULL DEFAULT now(),
    receipt       smallint NOT NULL,            -- 80021 status code
    report        jsonb NOT NULL,
    superseded_by bigint REFERENCES askue_files (id),
    UNIQUE (sender_inn, day, number, sha256)
);
CREATE INDEX askue_files_key ON askue_files (sender_inn, day, number);

-- A stored value replaced by a correction (a later 80020 file, say): nothing is lost.
CREATE TABLE corrections (
    id          bigserial PRIMARY KEY,
    meter_id    integer NOT NULL REFERENCES meters (id),
    ts          timestamptz NOT NULL,
    old_value   double precision NOT NULL,
    new_value   double precision NOT NULL,
    ref         bigint,                          -- askue_files.id of the correcting file
    corrected_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX corrections_meter ON corrections (meter_id, ts);
"""
