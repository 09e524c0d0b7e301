"""The validation stage: decoded items -> rows to store and quarantine rows, with reasons.

Holds the only cross-reading state of the streaming checks: the last accepted register value
of each meter (loaded from the store on first sight). Updates to that state are returned, not
applied, so the caller applies them only after the batch is committed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from adapters.store import ReadingStore
from adapters.store.registry import Meter, MeterKey
from adapters.store.writer import QuarantineRow, Row
from core.channels import canonical_unit, service_of
from core.codes import Reason
from core.payload import Decoded, Rejected
from core.reading import Kind, Reading
from core.validation import Limits, check_backfill, check_register, check_time

Last = tuple[datetime, float]


def reading_payload(r: Reading) -> bytes:
    """The canonical JSON of a reading, as kept in the quarantine for a replay."""
    doc = {
        "meter": r.meter,
        "channel": r.channel,
        "ts": r.ts.isoformat(),
        "value": r.value,
        "unit": canonical_unit(r.channel),
        "kind": "interval" if r.kind == Kind.INTERVAL else "register",
        "source": r.source,
        "flags": r.flags,
    }
    if r.end is not None:
        doc["end"] = r.end.isoformat()
    return json.dumps(doc, ensure_ascii=False).encode()


def _quarantine(r: Reading, reason: str, detail: str) -> QuarantineRow:
    return QuarantineRow(r.source, reason, detail, r.meter, r.channel, reading_payload(r))


@dataclass(slots=True)
class Validated:
    rows: list[Row] = field(default_factory=list)
    quarantine: list[QuarantineRow] = field(default_factory=list)
    last_updates: dict[int, Last] = field(default_factory=dict)


class Validator:
    def __init__(
        self, store: ReadingStore, *, limits: Limits, register_unknown: bool = True
    ) -> None:
        self.store = store
        self.limits = limits
        self.register_unknown = register_unknown
        self.last: dict[int, Last] = {}

    def commit(self, validated: Validated) -> None:
        """Applies a committed batch's register values to the last-value state."""
        for meter_id, (ts, value) in validated.last_updates.items():
            prev = self.last.get(meter_id)
            if prev is None or ts > prev[0]:
                self.last[meter_id] = (ts, value)

    async def validate(self, items: Sequence[Decoded], *, now: datetime | None = None) -> Validated:
        now = now or datetime.now(UTC)
        out = Validated()
        readings: list[Reading] = []
        for item in items:
            if isinstance(item, Rejected):
                out.quarantine.append(
                    QuarantineRow(
                        item.source,
                        item.reason,
                        item.detail,
                        item.meter,
                        item.channel,
                        item.payload,
                    )
                )
                continue
            verdict = check_time(item.ts, item.source, now=now, limits=self.limits)
            if verdict.reason is not None:
                out.quarantine.append(_quarantine(item, verdict.reason, verdict.detail))
            elif item.value < 0:
                out.quarantine.append(
                    _quarantine(item, Reason.NEGATIVE_VALUE, f"value {item.value} < 0")
                )
            else:
                readings.append(item)
        if not readings:
            return out
        keys: set[MeterKey] = {(r.source, r.meter, r.channel) for r in readings}
        meters = await self.store.resolve(list(keys), register=self.register_unknown)
        known: list[tuple[Meter, Reading]] = []
        for r in readings:
            meter = meters.get((r.source, r.meter, r.channel))
            if meter is None:
                out.quarantine.append(
                    _quarantine(r, Reason.UNKNOWN_METER, f"meter {r.meter!r} {r.channel} unknown")
                )
            else:
                known.append((meter, r))
        await self._check_registers(known, out)
        return out

    async def _check_registers(self, known: list[tuple[Meter, Reading]], out: Validated) -> None:
        registers = [(m, r) for m, r in known if r.kind == Kind.REGISTER]
        for m, r in known:
            if r.kind != Kind.REGISTER:
                out.rows.append((m.id, r.ts, r.value, int(r.kind), r.flags, r.end))
        if not registers:
            return
        unseen = {m.id for m, _ in registers} - self.last.keys()
        if unseen:
            self.last.update(await self.store.last_registers(sorted(unseen)))
        registers.sort(key=lambda mr: (mr[0].id, mr[1].ts))
        state: dict[int, Last] = {}
        backfill: list[tuple[Meter, Reading]] = []
        for m, r in registers:
            prev = state.get(m.id) or self.last.get(m.id)
            if prev is not None and r.ts < prev[0]:
                backfill.append((m, r))
                continue
            if prev is not None and r.ts == prev[0]:
                # same key: the store tells a duplicate from a conflict
                out.rows.append((m.id, r.ts, r.value, 0, r.flags, None))
                continue
            verdict = check_register(
                r.value, r.ts, prev, capacity_digits=m.capacity_digits, max_rate=self._rate(m)
            )
            if verdict.reason is not None:
                out.quarantine.append(_quarantine(r, verdict.reason, verdict.detail))
                continue
            out.rows.append((m.id, r.ts, r.value, 0, r.flags | verdict.flags, None))
            state[m.id] = (r.ts, r.value)
        if backfill:
            around = await self.store.neighbours([(m.id, r.ts) for m, r in backfill])
            for m, r in backfill:
                before, after = around.get((m.id, r.ts), (None, None))
                verdict = check_backfill(
                    r.value,
                    r.ts,
                    before,
                    after,
                    capacity_digits=m.capacity_digits,
                    max_rate=self._rate(m),
                )
                if verdict.reason is not None:
                    out.quarantine.append(_quarantine(r, verdict.reason, verdict.detail))
                else:
                    out.rows.append((m.id, r.ts, r.value, 0, r.flags | verdict.flags, None))
        out.last_updates = state

    def _rate(self, m: Meter) -> float | None:
        if m.max_rate is not None:
            return m.max_rate
        return self.limits.max_rate.get(service_of(m.channel))
