"""SQL of migration 22: a month's settled statements kept for the debtors views (issue #19)."""

from __future__ import annotations

# reserved: filled in by the work on that issue (a no-op until then)
LEDGER_MONTH_SQL = "SELECT 1"
