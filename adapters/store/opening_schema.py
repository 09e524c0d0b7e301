"""SQL of migration 23: when each opening debt was last set, so that a saved ledger month
read before a change says it may be out of date (``saved_month``'s ``new_opening``)."""

from __future__ import annotations

OPENING_SQL = """
ALTER TABLE opening_debts ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
"""
