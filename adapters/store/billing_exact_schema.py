"""SQL of migration 10: estimates billed per meter kept exactly.

An average such as 20/3 m³ was stored rounded to 6 decimals, so the run that reversed it
drifted by a millionth (and sometimes a kopeck). ``exact_num / exact_den`` is the volume as
the core computed it (a reduced fraction); ``volume`` stays the rounded figure people read.
Rows written before this migration have NULLs and are reversed from ``volume``.
"""

from __future__ import annotations

BILLING_EXACT_SQL = """
ALTER TABLE billed_estimates
    ADD COLUMN exact_num numeric,
    ADD COLUMN exact_den numeric CHECK (exact_den > 0),
    ADD CONSTRAINT billed_estimates_exact_pair CHECK ((exact_num IS NULL) = (exact_den IS NULL));
"""
