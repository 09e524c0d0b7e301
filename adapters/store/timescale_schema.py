"""SQL of migration 12: ``readings_daily`` answers up to the present (real-time aggregation).

TimescaleDB (2.13+) creates continuous aggregates materialized-only: without this, the days
after the last refresh (the policy runs hourly, with a one-hour end offset) would be missing
from :mod:`adapters.store.daily`. Data written into an already materialized day (a late
reading, a correction) still waits for the next refresh (``daily.refresh`` forces one).
On native range partitioning there is no aggregate: the migration does nothing.
"""

DAILY_SQL = "SELECT 1  -- native partitioning: nothing (see TIMESCALE_UPGRADES)"

TIMESCALE_UPGRADES: dict[int, str] = {
    12: "ALTER MATERIALIZED VIEW readings_daily SET (timescaledb.materialized_only = false)",
}
"""Per migration version, SQL run after it on the TimescaleDB layout only."""
