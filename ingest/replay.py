"""Replay of quarantined readings once their cause is fixed (an unknown meter bound, say).

Each selected quarantine row is decoded again from its payload and goes through the same
validation and write as live data; the row is then marked replayed. What still fails gets a
new quarantine row with its (possibly new) reason, so the history of a reading is kept.
Replaying twice is harmless: stored readings come back as duplicates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import orjson

from adapters.store import ReadingStore
from adapters.store.queries import mark_replayed, quarantine_to_replay
from core.batch import Columns, FastDecoder
from core.codes import Reason
from core.config import Settings
from core.payload import Rejected
from ingest.intake import Intake


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
    settings: Settings,
    *,
    meter_ids: Sequence[int] | None = None,
    quarantine_ids: Sequence[int] | None = None,
    chunk: int = 10_000,
    on_progress: Callable[[int, int], None] | None = None,
) -> ReplayReport:
    """Replays the not-yet-replayed quarantine rows of these meters and/or these ids, through
    an intake built from ``settings`` (the same limits as live data), registering no meters.
    ``on_progress(done, total)`` is told the rows replayed after each chunk.
    """
    if not meter_ids and not quarantine_ids:
        return ReplayReport()
    store.registry.forget()  # bindings may have changed since the cache was filled
    intake = Intake.from_settings(store, settings, register_unknown=False, retry=False)
    report = ReplayReport()
    rows = await quarantine_to_replay(store, meter_ids or (), quarantine_ids or ())
    for start in range(0, len(rows), chunk):
        part = rows[start : start + chunk]
        cols = Columns()
        decoders: dict[str, FastDecoder] = {}
        for row in part:
            decoder = decoders.setdefault(row.source, FastDecoder(row.source))
            try:
                obj = orjson.loads(row.payload)
            except orjson.JSONDecodeError as exc:
                cols.rejected.append(
                    Rejected(
                        Reason.MALFORMED,
                        f"not JSON: {exc}",
                        row.payload,
                        row.meter,
                        None,
                        row.source,
                    )
                )
                continue
            decoder.decode(obj, topic_meter=None, out=cols)
        result = await intake.ingest(cols, source="replay")
        await mark_replayed(store, [row.id for row in part])
        report.replayed += len(part)
        report.stored += result.stored
        report.duplicates += result.duplicates
        report.conflicts += result.conflicts
        report.still_quarantined.update(result.quarantined)
        if on_progress is not None:
            on_progress(report.replayed, len(rows))
    return report
