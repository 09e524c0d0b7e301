"""The validation stage: a columnar batch -> rows to store and quarantine rows, with reasons.

Vectorized with numpy (:func:`core.validation.check_registers`); only the rare cases go one
by one: meters with a rollback in the batch (the next value is checked against the last
*accepted* one) and back-filled readings (checked against their stored neighbours). Holds the
only cross-reading state of the streaming checks, the last accepted register value of each
meter (loaded from the store on first sight); updates to it are returned and applied by
:meth:`Validator.commit` only after the batch is committed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from adapters.store import ReadingStore
from adapters.store.registry import Meter
from adapters.store.writer import QuarantineRow
from core.batch import EPOCH, NO_END, Columns, to_us
from core.channels import canonical_unit, service_of
from core.codes import Reason
from core.validation import (
    LIVE_SOURCES,
    STATUS_ACCEPT,
    STATUS_BACKFILL,
    STATUS_ROLLBACK,
    STATUS_SAME_KEY,
    Limits,
    check_backfill,
    check_register,
    check_registers,
)

Last = tuple[int, float]  # (ts in epoch microseconds, value)
NONE_TS = np.iinfo(np.int64).min


def _dt(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(us))


def row_payload(cols: Columns, i: int) -> bytes:
    """The canonical JSON of element ``i``, as kept in the quarantine for a replay."""
    doc: dict[str, object] = {
        "meter": cols.meter[i],
        "channel": cols.channel[i],
        "ts": _dt(cols.ts[i]).isoformat(),
        "value": cols.value[i],
        "unit": canonical_unit(cols.channel[i]),
        "kind": "interval" if cols.kind[i] else "register",
        "source": cols.source[i],
    }
    if cols.flags[i]:
        doc["flags"] = cols.flags[i]
    if cols.end[i] != NO_END:
        doc["end"] = _dt(cols.end[i]).isoformat()
    return json.dumps(doc, ensure_ascii=False).encode()


@dataclass(slots=True)
class Validated:
    meter: np.ndarray
    ts: np.ndarray
    value: np.ndarray
    kind: np.ndarray
    flags: np.ndarray
    end: np.ndarray
    quarantine: list[QuarantineRow] = field(default_factory=list)
    last_updates: dict[int, Last] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.meter)


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

    def _quarantine(self, cols: Columns, i: int, reason: str, detail: str) -> QuarantineRow:
        return QuarantineRow(
            cols.source[i], reason, detail, cols.meter[i], cols.channel[i], row_payload(cols, i)
        )

    async def validate(self, cols: Columns, *, now: datetime | None = None) -> Validated:
        now_us = to_us(now or datetime.now(UTC))
        quarantine = [
            QuarantineRow(r.source, r.reason, r.detail, r.meter, r.channel, r.payload)
            for r in cols.rejected
        ]
        n = len(cols.ts)
        ts = np.array(cols.ts, dtype=np.int64)
        value = np.array(cols.value, dtype=np.float64)
        kind = np.array(cols.kind, dtype=np.int16)
        ok = np.ones(n, dtype=bool)

        # Time and sign, for every element at once.
        tolerance = int(self.limits.clock_tolerance.total_seconds() * 1e6)
        window = int(self.limits.backfill.total_seconds() * 1e6)
        sources = set(cols.source)
        if len(sources) == 1:
            live = np.full(n, next(iter(sources)) in LIVE_SOURCES)
        else:
            live = np.fromiter((s in LIVE_SOURCES for s in cols.source), dtype=bool, count=n)
        future = ts > now_us + tolerance
        too_old = live & (ts < now_us - window) & ~future
        negative = (value < 0) & ~future & ~too_old
        for mask, reason, what in (
            (future, Reason.FUTURE_TIMESTAMP, "is after now"),
            (too_old, Reason.TOO_OLD, f"is older than {self.limits.backfill.days} days"),
        ):
            for i in np.flatnonzero(mask):
                quarantine.append(
                    self._quarantine(cols, i, reason, f"ts {_dt(cols.ts[i]).isoformat()} {what}")
                )
        for i in np.flatnonzero(negative):
            quarantine.append(
                self._quarantine(cols, i, Reason.NEGATIVE_VALUE, f"value {cols.value[i]} < 0")
            )
        ok &= ~(future | too_old | negative)

        # Meters: the registry cache answers almost every lookup.
        keys = list(zip(cols.source, cols.meter, cols.channel, strict=True))
        lookup = self.store.registry.lookup
        meters: list[Meter | None] = [lookup(k) for k in keys]
        mid = np.fromiter((m.id if m else -1 for m in meters), dtype=np.int32, count=n)
        absent = np.flatnonzero(ok & (mid < 0))
        if len(absent):
            await self.store.resolve(
                list({keys[i] for i in absent}), register=self.register_unknown
            )
            for i in absent:
                m = meters[i] = lookup(keys[i])
                mid[i] = m.id if m else -1
        unknown = ok & (mid < 0)
        for i in np.flatnonzero(unknown):
            quarantine.append(
                self._quarantine(
                    cols,
                    i,
                    Reason.UNKNOWN_METER,
                    f"meter {cols.meter[i]!r} {cols.channel[i]} unknown",
                )
            )
        ok &= ~unknown

        flags = np.array(cols.flags, dtype=np.int32)
        last_updates: dict[int, Last] = {}
        registers = np.flatnonzero(ok & (kind == 0))
        if len(registers):
            await self._check_registers(
                cols, registers, mid, ts, value, flags, ok, meters, quarantine, last_updates
            )
        end = np.array(cols.end, dtype=np.int64)
        return Validated(
            meter=mid[ok],
            ts=ts[ok],
            value=value[ok],
            kind=kind[ok],
            flags=flags[ok],
            end=end[ok],
            quarantine=quarantine,
            last_updates=last_updates,
        )

    async def _check_registers(
        self,
        cols: Columns,
        idx: np.ndarray,
        mid: np.ndarray,
        ts: np.ndarray,
        value: np.ndarray,
        flags: np.ndarray,
        ok: np.ndarray,
        meters: list[Meter | None],
        quarantine: list[QuarantineRow],
        last_updates: dict[int, Last],
    ) -> None:
        idx = idx[np.lexsort((ts[idx], mid[idx]))]
        m, t, v = mid[idx], ts[idx], value[idx]
        unseen = set(np.unique(m).tolist()) - self.last.keys()
        if unseen:
            stored = await self.store.last_registers(sorted(unseen))
            for meter_id, (when, val) in stored.items():
                self.last[meter_id] = (to_us(when), val)
        last = [self.last.get(int(x)) for x in m]
        last_ts = np.fromiter((x[0] if x else NONE_TS for x in last), np.int64, len(idx))
        last_value = np.fromiter((x[1] if x else 0.0 for x in last), np.float64, len(idx))
        info = [meters[i] for i in idx]
        capacity = np.fromiter(
            (10.0**x.capacity_digits if x and x.capacity_digits else 0.0 for x in info),
            np.float64,
            len(idx),
        )
        rates = [self._rate(x) for x in info]
        max_rate = np.fromiter(
            (r if r is not None else np.inf for r in rates), np.float64, len(idx)
        )
        checks = check_registers(
            m, t, v, last_ts=last_ts, last_value=last_value, capacity=capacity, max_rate=max_rate
        )
        status = checks.status
        # Meters with a rollback: the vector pass compared later values with the rolled-back
        # one; check those meters again one by one against the last accepted value.
        for meter_id in np.unique(m[status == STATUS_ROLLBACK]):
            positions = np.flatnonzero((m == meter_id) & (status != STATUS_BACKFILL))
            first = self.last.get(int(meter_id))
            prev = (_dt(first[0]), first[1]) if first else None
            for p in positions:
                when = _dt(t[p])
                if prev is not None and when == prev[0]:
                    status[p] = STATUS_SAME_KEY
                    continue
                x = info[p]
                verdict = check_register(
                    float(v[p]),
                    when,
                    prev,
                    capacity_digits=x.capacity_digits if x else None,
                    max_rate=rates[p],
                )
                if verdict.reason is None:
                    status[p] = STATUS_ACCEPT
                    checks.flags[p] = verdict.flags
                    prev = (when, float(v[p]))
                else:
                    status[p] = STATUS_ROLLBACK
        for p in np.flatnonzero(status == STATUS_ROLLBACK):
            i = idx[p]
            previous = self._accepted_before(m, t, v, status, p, self.last.get(int(m[p])))
            quarantine.append(
                self._quarantine(
                    cols,
                    i,
                    Reason.REGISTER_ROLLBACK,
                    f"value {cols.value[i]} < previous {previous}",
                )
            )
            ok[i] = False
        backfill = np.flatnonzero(status == STATUS_BACKFILL)
        if len(backfill):
            around = await self.store.neighbours([(int(m[p]), _dt(t[p])) for p in backfill])
            for p in backfill:
                i = idx[p]
                before, after = around.get((int(m[p]), _dt(t[p])), (None, None))
                x = info[p]
                verdict = check_backfill(
                    float(v[p]),
                    _dt(t[p]),
                    before,
                    after,
                    capacity_digits=x.capacity_digits if x else None,
                    max_rate=rates[p],
                )
                if verdict.reason is None:
                    checks.flags[p] = verdict.flags
                else:
                    quarantine.append(self._quarantine(cols, i, verdict.reason, verdict.detail))
                    ok[i] = False
        flags[idx] |= checks.flags
        accepted = np.flatnonzero(status == STATUS_ACCEPT)
        if len(accepted):
            # the last accepted element of each meter (the batch is sorted by meter, ts)
            am = m[accepted]
            tail = np.ones(len(accepted), dtype=bool)
            tail[:-1] = am[1:] != am[:-1]
            for p in accepted[tail]:
                last_updates[int(m[p])] = (int(t[p]), float(v[p]))

    @staticmethod
    def _accepted_before(
        m: np.ndarray, t: np.ndarray, v: np.ndarray, status: np.ndarray, p: int, stored: Last | None
    ) -> str:
        q = p - 1
        while q >= 0 and m[q] == m[p]:
            if status[q] == STATUS_ACCEPT:
                return f"{v[q]} at {_dt(t[q]).isoformat()}"
            q -= 1
        return f"{stored[1]} at {_dt(stored[0]).isoformat()} (stored)" if stored else "?"

    def _rate(self, m: Meter | None) -> float | None:
        if m is None:
            return None
        if m.max_rate is not None:
            return m.max_rate
        return self.limits.max_rate.get(service_of(m.channel))
