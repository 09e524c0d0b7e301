"""SQL of migration 18: reconciliation decisions, accounts opened from the register (#22)."""

from __future__ import annotations

# reserved: filled in by the work on that issue (a no-op until then)
RECONCILE_SQL = "SELECT 1"
