"""SQL of migration 21: searching and paging 100,000 meters (issue #20)."""

from __future__ import annotations

# reserved: filled in by the work on that issue (a no-op until then)
METERS_SEARCH_SQL = "SELECT 1"
