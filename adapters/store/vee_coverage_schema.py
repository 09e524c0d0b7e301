"""SQL of migration 15: how many premise meters a house balance row compares (issue #20).

``premises_with_data``: premise meters with daily data in the run; ``premises_total``: premise
meters of the house for that service. ``ratio`` is stored only when the two are equal, so a
partial sum never shows as an imbalance. Rows written before this migration keep NULL.
"""

from __future__ import annotations

VEE_COVERAGE_SQL = """
ALTER TABLE vee_house_balance ADD COLUMN premises_with_data integer;
ALTER TABLE vee_house_balance ADD COLUMN premises_total integer;
"""
