"""Replay of quarantined readings once their cause is fixed (an unknown meter bound, say).

Each selected quarantine row is decoded again from its payload and goes through the same
validation and write as live data; the row is then marked replayed. What still fails gets a
new quarantine row with its (possibly new) reason, so the history of a reading is kept.
Replaying twice is harmless: stored readings come back as duplicates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson

from adapters.store import ReadingStore
from adapters.store.db import store_errors
from core.batch import Columns, FastDecoder
from core.codes import Reason
from core.payload import Rejected
from core.validation import Limits
from ingest.validate import Validator


@dataclass(slots=True)
class ReplayReport:
    replayed: int = 0
    stored: int = 0
    duplicates: int = 0
    conflicts: int = 0
    still_quarantined: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "replayed": self.replayed,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "still_quarantined": dict(self.still_quarantined),
        }


async def replay(
    store: ReadingStore,
    *,
    meter_ids: Sequence[int] | None = None,
    quarantine_ids: Sequence[int] | None = None,
    limits: Limits | None = None,
    chunk: int = 10_000,
) -> ReplayReport:
    """Replays the not-yet-replayed quarantine rows of these meters and/or these ids."""
    if not meter_ids and not quarantine_ids:
        return ReplayReport()
    store.registry.forget()  # bindings may have changed since the cache was filled
    validator = Validator(store, limits=limits or Limits(), register_unknown=False)
    report = ReplayReport()
    async with store_errors("select quarantine"), store.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT q.id, q.source, q.payload, q.meter FROM quarantine q"
            " LEFT JOIN meters m ON m.source = q.source AND m.external_id = q.meter"
            "  AND m.channel = q.channel"
            " WHERE q.replayed_at IS NULL"
            "  AND (m.id = ANY($1::integer[]) OR q.id = ANY($2::bigint[]))"
            " ORDER BY q.id",
            list(meter_ids or ()),
            list(quarantine_ids or ()),
        )
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        cols = Columns()
        decoders: dict[str, FastDecoder] = {}
        for row in part:
            decoder = decoders.setdefault(row["source"], FastDecoder(row["source"]))
            try:
                obj = orjson.loads(row["payload"])
            except orjson.JSONDecodeError as exc:
                cols.rejected.append(
                    Rejected(
                        Reason.MALFORMED,
                        f"not JSON: {exc}",
                        row["payload"],
                        row["meter"],
                        None,
                        row["source"],
                    )
                )
                continue
            decoder.decode(obj, topic_meter=None, out=cols)
        validated = await validator.validate(cols)
        result = await store.write_arrays(
            validated.meter, validated.ts, validated.value, validated.kind, validated.flags,
            validated.end, validated.quarantine, source="replay",
        )  # fmt: skip
        validator.commit(validated)
        async with store_errors("mark replayed"), store.pool.acquire() as conn:
            await conn.execute(
                "UPDATE quarantine SET replayed_at = now() WHERE id = ANY($1::bigint[])",
                [row["id"] for row in part],
            )
        report.replayed += len(part)
        report.stored += result.inserted
        report.duplicates += result.duplicates
        report.conflicts += result.conflicts
        report.still_quarantined.update(q.reason for q in validated.quarantine)
    return report
