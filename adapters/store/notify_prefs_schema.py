"""SQL of migration 17: notification preferences, confirmed e-mail, bounces (issue #21)."""

from __future__ import annotations

# reserved: filled in by the work on that issue (a no-op until then)
NOTIFY_PREFS_SQL = "SELECT 1"
