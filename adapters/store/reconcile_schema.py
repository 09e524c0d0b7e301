"""SQL of migration 18: reconciliation decisions, accounts opened from the register (#22).

An operator may open an account from a register row (a contract by public offer): the premise
goes into ``premises`` with the register's area, purpose and people, the decision ``open`` is
recorded, and ``reconcile_opened`` holds which row opened which premise, once per row key (a
second request for the same row finds it there and creates nothing).
"""

from __future__ import annotations

RECONCILE_SQL = """
ALTER TABLE reconcile_decisions DROP CONSTRAINT reconcile_decisions_decision_check;
ALTER TABLE reconcile_decisions ADD CONSTRAINT reconcile_decisions_decision_check
    CHECK (decision IN ('confirm', 'checked', 'undo', 'open'));
ALTER TABLE reconcile_decisions ADD CONSTRAINT reconcile_decisions_open_premise
    CHECK (decision <> 'open' OR premise_id IS NOT NULL);

CREATE TABLE reconcile_opened (
    key         text PRIMARY KEY,      -- the register row's key (as in reconcile_decisions)
    premise_id  text NOT NULL UNIQUE,
    account     text NOT NULL,
    import_id   bigint NOT NULL,       -- the register import and row it was opened from
    line        integer NOT NULL,
    decision_id bigint NOT NULL REFERENCES reconcile_decisions (id),
    opened_at   timestamptz NOT NULL DEFAULT now()
);
"""
