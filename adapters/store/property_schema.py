"""SQL of migration 13: imported property registers, their bad rows, and the operators'
reconciliation decisions (docs/reconcile.md)."""

from __future__ import annotations

PROPERTY_SQL = """
CREATE TABLE property_imports (
    id          bigserial PRIMARY KEY,
    file        text NOT NULL,
    mapping     text NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now(),
    rows        integer NOT NULL,
    problems    integer NOT NULL
);

-- one premise of a register, as read (the report always uses the latest import)
CREATE TABLE property_rows (
    import_id   bigint  NOT NULL REFERENCES property_imports (id) ON DELETE CASCADE,
    line        integer NOT NULL,
    address     text    NOT NULL,
    premise     text    NOT NULL DEFAULT '',
    cadastral   text,
    fias        text,
    area        numeric CHECK (area > 0),
    residential boolean,
    owners      integer CHECK (owners >= 0),
    residents   integer CHECK (residents >= 0),
    PRIMARY KEY (import_id, line)
);

CREATE TABLE property_problems (
    import_id bigint  NOT NULL REFERENCES property_imports (id) ON DELETE CASCADE,
    line      integer NOT NULL,
    detail    text    NOT NULL
);

-- Every operator decision is kept (never updated): the latest per key counts. ``key`` is the
-- register row's identity across imports (cadastral number, ГАР GUID or normalized address).
CREATE TABLE reconcile_decisions (
    id         bigserial PRIMARY KEY,
    key        text NOT NULL,
    decision   text NOT NULL CHECK (decision IN ('confirm', 'checked', 'undo')),
    kind       text,               -- checked: the finding's kind
    premise_id text,               -- confirm: the premise the row is
    note       text NOT NULL DEFAULT '',
    decided_by text NOT NULL,
    decided_at timestamptz NOT NULL DEFAULT now(),
    CHECK (decision <> 'confirm' OR premise_id IS NOT NULL),
    CHECK (decision <> 'checked' OR kind IS NOT NULL)
);
CREATE INDEX reconcile_decisions_key ON reconcile_decisions (key, id);
"""
