"""Inputs that once stopped intake go to the quarantine with a reason; the rest is stored.

Real PostgreSQL: a row the database itself refuses (here a trigger refuses a value, standing
for any permanent refusal) is isolated by bisection; a redelivered input adds no quarantine or
conflict rows; NUL bytes and huge ids never reach the store.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from core.batch import Columns, FastDecoder
from core.config import Settings
from ingest.intake import Intake
from tests.mqtt_tools import reading

pytestmark = pytest.mark.postgres
NOW = datetime.now(UTC).replace(microsecond=0)


def _cols(docs: list[dict]) -> Columns:
    cols = Columns()
    FastDecoder("mqtt").decode(docs, topic_meter=None, out=cols)
    return cols


def _ts(hours_ago: float) -> str:
    return (NOW - timedelta(hours=hours_ago)).isoformat()


async def _count(url: str, sql: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def test_rows_the_database_refuses_are_bisected_out(store, db_url) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute(
            "CREATE FUNCTION refuse_666() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN IF NEW.value = 666 THEN RAISE EXCEPTION 'value 666 refused by policy';"
            " END IF; RETURN NEW; END $$;"
            " CREATE TRIGGER refuse_666 BEFORE INSERT ON readings"
            " FOR EACH ROW EXECUTE FUNCTION refuse_666()"
        )
    finally:
        await conn.close()
    intake = Intake.from_settings(store, Settings())
    docs = [reading(f"m{i}", _ts(1), 666.0 if i in (3, 17) else float(i)) for i in range(40)]
    docs.append({"meter": "bad", "ts": "not a time", "value": 1})  # decoded as malformed
    result = await intake.ingest(_cols(docs), source="mqtt")
    assert result.stored == 38
    assert result.quarantined == Counter({"store_refused": 2, "malformed": 1})
    refused = [q for q in result.quarantine if q.reason == "store_refused"]
    assert {q.meter for q in refused} == {"m3", "m17"}
    assert all("666 refused by policy" in q.detail for q in refused)
    assert await _count(db_url, "SELECT count(*) FROM readings") == 38
    assert await _count(db_url, "SELECT count(*) FROM quarantine") == 3
    # the refused meters' state comes from the store again: a later value is judged on it
    again = await intake.ingest(_cols([reading("m3", _ts(0.5), 5.0)]), source="mqtt")
    assert again.stored == 1


async def test_redelivery_adds_no_quarantine_or_conflict_rows(store, db_url) -> None:
    intake = Intake.from_settings(store, Settings())
    first = [reading("a", _ts(2), 10.0), reading("b", _ts(1), -5.0)]
    await intake.ingest(_cols(first), source="mqtt")
    conflicting = [reading("a", _ts(2), 11.0), reading("b", _ts(1), -5.0)]
    for _ in range(3):  # the same message delivered again after a reconnect
        await intake.ingest(_cols(conflicting), source="mqtt")
    assert await _count(db_url, "SELECT count(*) FROM quarantine") == 1
    assert await _count(db_url, "SELECT count(*) FROM conflicts") == 1
    assert intake.totals.conflicts == 1


async def test_a_value_above_the_next_stored_one_at_the_same_time_is_a_conflict(store, db_url):
    intake = Intake.from_settings(store, Settings())
    await intake.ingest(
        _cols([reading("c", _ts(3), 100.0), reading("c", _ts(1), 110.0)]), source="mqtt"
    )
    # same key as the first, above the next stored value: another value for a stored key
    result = await intake.ingest(_cols([reading("c", _ts(3), 115.0)]), source="mqtt")
    assert (result.conflicts, result.quarantined) == (1, Counter())
    assert await _count(db_url, "SELECT count(*) FROM conflicts") == 1


async def test_unstorable_identifiers_and_values_are_quarantined(store, db_url) -> None:
    intake = Intake.from_settings(store, Settings())
    long_id = "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(4000))
    docs = [
        reading("nul\x00meter", _ts(1), 1.0),
        reading(long_id, _ts(1), 1.0),
        reading("ok", _ts(1), 1.0),
        reading("huge", _ts(1), 1e300),
        reading("ok2", _ts(1), float("inf")),
        reading("half\ud800pair", _ts(1), 1.0),  # a lone surrogate (from a JSON escape)
    ]
    cols = _cols(docs)
    result = await intake.ingest(cols, source="mqtt")
    reasons = Counter(result.quarantined)
    assert result.stored == 1
    assert reasons["invalid_identifier"] == 3
    assert reasons["value_too_large"] + reasons["malformed"] == 2
    assert await _count(db_url, "SELECT count(*) FROM quarantine") == 5
    assert await _count(db_url, "SELECT max(length(meter)) FROM quarantine") < 300


async def test_a_value_beyond_the_register_capacity_is_not_stored(store, db_url) -> None:
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute(
            "INSERT INTO meters (source, external_id, channel, service, unit, capacity_digits)"
            " VALUES ('mqtt', 'cap5', 'cold_water', 'cold_water', 'm3', 5)"
        )
    finally:
        await conn.close()
    intake = Intake.from_settings(store, Settings())
    result = await intake.ingest(
        _cols([reading("cap5", _ts(2), 99_999.0), reading("cap5", _ts(1), 4_250_000.0)]),
        source="mqtt",
    )
    assert result.stored == 1
    assert result.quarantined == Counter({"value_too_large": 1})
    assert "5 digits" in result.quarantine[0].detail
