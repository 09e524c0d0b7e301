"""SQL of migration 20: late readings of months billed by meter (issue #16)."""

from __future__ import annotations

# reserved: filled in by the work on that issue (a no-op until then)
BILLING_LATE_SQL = "SELECT 1"
