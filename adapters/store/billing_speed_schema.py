"""SQL of migration 19: billing at regional scale (issue #16)."""

from __future__ import annotations

# reserved: filled in by the work on that issue (a no-op until then)
BILLING_SPEED_SQL = "SELECT 1"
