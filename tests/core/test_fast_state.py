"""The fast path's dense state: decoder column alignment, last values and meter ids by id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from adapters.store.registry import Meter, Registry
from core.batch import NO_END, Columns, FastDecoder, to_us
from core.codes import Flag, Reason
from core.validation import Limits
from ingest.validate import NONE_TS, LastValues, Validator

T0 = datetime(2026, 3, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=30)


def test_constant_columns_stay_aligned_around_slow_elements():
    payload = [
        {"meter": "a", "channel": "cold_water", "ts": "2026-03-01T00:00:00Z", "value": 1},
        {"meter": "b", "channel": "heating", "ts": "2026-03-01T00:00:00Z", "value": 2,
         "kind": "interval", "end": "2026-03-01T01:00:00Z", "flags": int(Flag.MANUAL)},
        {"meter": "c", "channel": "cold_water", "ts": "2026-03-01T00:00:00Z", "value": 3},
        {"meter": "d", "channel": "cold_water", "value": 4},  # no ts: rejected
        {"meter": "e", "channel": "cold_water", "ts": "2026-03-01T00:00:00Z", "value": 5},
    ]  # fmt: skip
    cols = Columns()
    FastDecoder("mqtt").decode(payload, topic_meter=None, out=cols)
    assert cols.meter == ["a", "b", "c", "e"]
    lengths = {len(getattr(cols, f)) for f in ("source", "channel", "ts", "kind", "flags", "end")}
    assert lengths == {4}
    assert cols.kind == [0, 1, 0, 0]
    assert cols.flags == [0, int(Flag.MANUAL), 0, 0]
    end = to_us(datetime(2026, 3, 1, 1, tzinfo=UTC))
    assert cols.end == [NO_END, end, NO_END, NO_END]
    assert cols.source == ["mqtt"] * 4
    assert len(cols.rejected) == 1


def test_last_values_keep_the_newest_and_grow():
    last = LastValues()
    assert last.get(5) is None and 5 not in last
    last[3] = (100, 1.5)
    last.update(np.array([3, 5000]), np.array([50, 70]), np.array([9.0, 2.0]))
    assert last.get(3) == (100, 1.5)  # older update ignored
    assert last.get(5000) == (70, 2.0)  # grown past the first size, earlier values kept
    last.update(np.array([3]), np.array([200]), np.array([4.0]))
    assert last.get(3) == (200, 4.0)
    assert len(last) == 2
    last.clear()
    assert last.get(3) is None and len(last) == 0 and last.ts[3] == NONE_TS


class FakeConn:
    """The registry's two statements over an in-memory meters table."""

    def __init__(self, rows: dict[tuple[str, str, str], Meter]) -> None:
        self.rows = rows
        self.next_id = 1000  # ids far beyond the dense arrays' first size

    async def fetch(self, _sql, sources, ids, channels):
        keys = zip(sources, ids, channels, strict=True)
        return [tuple(self.rows[k].__getattribute__(f) for f in Meter.__slots__)
                for k in keys if k in self.rows]  # fmt: skip

    async def execute(self, _sql, sources, ids, channels, services, _units):
        for key in zip(sources, ids, channels, strict=True):
            if key not in self.rows:
                self.next_id += 1
                self.rows[key] = Meter(self.next_id, *key, services[0], None, None, None)


class FakeStore:
    def __init__(self) -> None:
        self.registry = Registry()
        self.conn = FakeConn({})
        self.stored: dict[int, tuple[datetime, float]] = {}
        self.last_queries: list[list[int]] = []

    async def resolve(self, keys, *, register):
        return await self.registry.resolve(self.conn, keys, register=register)

    async def last_registers(self, meter_ids):
        self.last_queries.append(list(meter_ids))
        return {m: self.stored[m] for m in meter_ids if m in self.stored}

    async def neighbours(self, keys):
        return {}


def _cols(rows: list[tuple[str, datetime, float]]) -> Columns:
    cols = Columns()
    decoder = FastDecoder("mqtt")
    decoder.decode(
        [{"meter": m, "channel": "cold_water", "ts": ts.isoformat(), "value": v}
         for m, ts, v in rows],
        topic_meter=None,
        out=cols,
    )  # fmt: skip
    return cols


async def test_validator_maps_rows_to_registry_ids_and_chains_batches():
    store = FakeStore()
    validator = Validator(store, limits=Limits())
    first = await validator.validate(
        _cols([("a", T0, 10.0), ("b", T0, 5.0), ("a", T0 + timedelta(hours=1), 11.0)]), now=NOW
    )
    ids = store.registry.ids
    a, b = ids[("mqtt", "a", "cold_water")], ids[("mqtt", "b", "cold_water")]
    assert store.registry.by_id[a].external_id == "a"
    assert sorted(first.meter.tolist()) == sorted([a, a, b])
    validator.commit(first)
    assert validator.last.get(a) == (to_us(T0 + timedelta(hours=1)), 11.0)
    # the next batch compares with the committed values, without asking the store again
    second = await validator.validate(
        _cols([("a", T0 + timedelta(hours=2), 10.5), ("b", T0 + timedelta(hours=2), 6.0)]),
        now=NOW,
    )
    assert [q.reason for q in second.quarantine] == [Reason.REGISTER_ROLLBACK]
    assert second.quarantine[0].meter == "a"
    assert second.meter.tolist() == [b]
    assert len(store.last_queries) == 1


async def test_cleared_last_values_are_loaded_from_the_store_again():
    store = FakeStore()
    validator = Validator(store, limits=Limits())
    validator.commit(await validator.validate(_cols([("a", T0, 10.0)]), now=NOW))
    a = store.registry.ids[("mqtt", "a", "cold_water")]
    store.stored[a] = (T0 + timedelta(hours=5), 50.0)  # another process wrote a later value
    validator.last.clear()
    later = await validator.validate(_cols([("a", T0 + timedelta(hours=6), 20.0)]), now=NOW)
    assert [q.reason for q in later.quarantine] == [Reason.REGISTER_ROLLBACK]
    assert "50.0" in later.quarantine[0].detail


@pytest.mark.parametrize("forget", [False, True])
async def test_meter_edits_take_effect_after_the_registry_forgets(forget):
    store = FakeStore()
    validator = Validator(store, limits=Limits())
    validator.commit(await validator.validate(_cols([("a", T0, 9990.0)]), now=NOW))
    key = ("mqtt", "a", "cold_water")
    a = store.registry.ids[key]
    # an operator sets a 4-digit register: 9990 -> 5 is then a rollover, not a rollback
    meter = store.conn.rows[key]
    store.conn.rows[key] = Meter(*(getattr(meter, f) for f in Meter.__slots__[:6]), 4, None)
    if forget:
        store.registry.forget()
    # 9990 -> 5 is a rollover either way (the capacity inferred from 9990 is 10^4 too); what
    # differs is whether the validator's per-meter state picked up the edited row
    out = await validator.validate(_cols([("a", T0 + timedelta(hours=1), 5.0)]), now=NOW)
    assert out.meter.tolist() == [a]
    assert out.flags[0] & Flag.ROLLOVER
    assert validator._capacity_digits(a) == (4 if forget else None)
