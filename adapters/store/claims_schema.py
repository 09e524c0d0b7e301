"""SQL of migration 16: the claims workflow (претензионно-исковая работа) of issue #19."""

from __future__ import annotations

# reserved: filled in by the work on that issue (a no-op until then)
CLAIMS_SQL = "SELECT 1"
