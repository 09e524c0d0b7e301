"""SQL of migration 21: searching and paging 100,000 meters (issue #20).

The operator's search matches the start of a serial, a premise id or a house id: a btree with
``text_pattern_ops`` answers ``LIKE 'abc%'`` in any collation (pg_trgm is not guaranteed to be
installed). The unbound meters, the page operators open most, get a partial index by id.
"""

from __future__ import annotations

METERS_SEARCH_SQL = """
CREATE INDEX meters_serial_prefix ON meters (external_id text_pattern_ops);
CREATE INDEX meters_premise_prefix ON meters (premise_id text_pattern_ops);
CREATE INDEX meters_house_prefix ON meters (house_id text_pattern_ops);
CREATE INDEX meters_unbound ON meters (id) WHERE premise_id IS NULL AND house_id IS NULL;
"""
