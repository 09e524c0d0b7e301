"""SQL of migration 19: billing at regional scale (issue #16) — ``accruals`` partitioned by
period.

A run writes a period's lines into a table of their own, indexes and checks it once (a sort,
not millions of index insertions, no dead rows of the previous run to step over), then swaps
it in for the period's partition (:mod:`adapters.store.billing_partition`). Rows already
billed move to a partition per period; rows anyone inserts for a period without a partition
of its own land in the DEFAULT partition, and a run of that period moves them out.

``run_id`` names the run in ``billing_runs`` without a foreign key: adding one to a run's
table locks ``billing_runs`` against the run rows of concurrent runs of other periods (a
deadlock), and checking it row by row costs more than the copy.
"""

from __future__ import annotations

BILLING_SPEED_SQL = """
ALTER TABLE accruals RENAME TO accruals_old;
ALTER TABLE accruals_old RENAME CONSTRAINT accruals_pkey TO accruals_old_pkey;
CREATE TABLE accruals (
    LIKE accruals_old INCLUDING DEFAULTS,
    PRIMARY KEY (period, premise_id, service, method)
) PARTITION BY LIST (period);
CREATE TABLE accruals_default PARTITION OF accruals DEFAULT;
DO $$
DECLARE p date;
BEGIN
    FOR p IN SELECT DISTINCT period FROM accruals_old LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF accruals FOR VALUES IN (%L)',
                       'accruals_p' || to_char(p, 'YYYYMM'), p);
    END LOOP;
END $$;
INSERT INTO accruals SELECT * FROM accruals_old;  -- the same columns in the same order
DROP TABLE accruals_old;
"""
