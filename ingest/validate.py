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
from itertools import repeat

import numpy as np

from adapters.store import ReadingStore
from adapters.store.registry import Meter
from adapters.store.writer import QuarantineRow
from core.batch import EPOCH, NO_END, Columns, to_us
from core.channels import canonical_unit, service_of
from core.codes import Reason
from core.errors import StoreError
from core.validation import (
    STATUS_ACCEPT,
    STATUS_BACKFILL,
    STATUS_ROLLBACK,
    STATUS_SAME_KEY,
    Limits,
    check_backfill,
    check_register,
    check_registers,
    identifier_problem,
)

Last = tuple[int, float]  # (ts in epoch microseconds, value)
NONE_TS = np.iinfo(np.int64).min


def _dt(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=int(us))


def row_detail(v: Validated, i: int) -> str:
    """Element ``i`` of a validated batch, for a quarantine detail."""
    end = f", end {_dt(v.end[i]).isoformat()}" if v.end[i] != NO_END else ""
    return (
        f"meter id {int(v.meter[i])}, ts {_dt(v.ts[i]).isoformat()}, value {v.value[i]!r},"
        f" kind {int(v.kind[i])}, flags {int(v.flags[i])}{end}"
    )


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
    # a lone surrogate (from a JSON escape) becomes that escape again
    return json.dumps(doc, ensure_ascii=False).encode("utf-8", "backslashreplace")


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


class LastValues:
    """The last accepted register value per meter id, kept in dense arrays indexed by id.

    Dict-like for the rare per-meter paths (``get``, ``[id] = ...``, ``clear``); the batch
    path gathers and updates :attr:`ts`/:attr:`value` with vector operations.
    """

    def __init__(self) -> None:
        self.ts = np.full(0, NONE_TS, dtype=np.int64)  # NONE_TS: no value known
        self.value = np.zeros(0, dtype=np.float64)

    def grow(self, size: int) -> None:
        """Makes room for meter ids below ``size`` (geometrically: ids arrive in bulk)."""
        if size > len(self.ts):
            size = max(size, 2 * len(self.ts), 1024)
            ts = np.full(size, NONE_TS, dtype=np.int64)
            value = np.zeros(size, dtype=np.float64)
            ts[: len(self.ts)] = self.ts
            value[: len(self.value)] = self.value
            self.ts, self.value = ts, value

    def get(self, meter_id: int) -> Last | None:
        if 0 <= meter_id < len(self.ts) and self.ts[meter_id] != NONE_TS:
            return int(self.ts[meter_id]), float(self.value[meter_id])
        return None

    def __setitem__(self, meter_id: int, last: Last) -> None:
        self.grow(meter_id + 1)
        self.ts[meter_id], self.value[meter_id] = last

    def __contains__(self, meter_id: object) -> bool:
        return isinstance(meter_id, int) and self.get(meter_id) is not None

    def __len__(self) -> int:
        return int(np.count_nonzero(self.ts != NONE_TS))

    def clear(self) -> None:
        self.ts.fill(NONE_TS)

    def update(self, meter: np.ndarray, ts: np.ndarray, value: np.ndarray) -> None:
        """Applies newer values (one per meter id) in place; older ones are ignored."""
        if len(meter):
            self.grow(int(meter.max()) + 1)
            newer = ts > self.ts[meter]
            self.ts[meter[newer]] = ts[newer]
            self.value[meter[newer]] = value[newer]


class Validator:
    def __init__(
        self, store: ReadingStore, *, limits: Limits, register_unknown: bool = True
    ) -> None:
        self.store = store
        self.limits = limits
        self.register_unknown = register_unknown
        self.last = LastValues()
        # Per meter id, derived from the registry's meter rows: capacity (0: infer), max rate
        # per hour (inf: none), and whether those are filled; dropped when the registry
        # forgets its meters (an operator may have edited them).
        self._capacity = np.zeros(0, dtype=np.float64)
        self._digits = np.zeros(0, dtype=np.int64)
        self._max_rate = np.zeros(0, dtype=np.float64)
        self._info = np.zeros(0, dtype=bool)
        self._generation = -1

    def commit(self, validated: Validated) -> None:
        """Applies a committed batch's register values to the last-value state."""
        updates = validated.last_updates
        if updates:
            meter = np.fromiter(updates.keys(), np.int64, len(updates))
            ts = np.fromiter((x[0] for x in updates.values()), np.int64, len(updates))
            value = np.fromiter((x[1] for x in updates.values()), np.float64, len(updates))
            self.last.update(meter, ts, value)

    def _meter_info(self, meters: np.ndarray) -> None:
        """Fills capacity and max rate of the given meter ids (unique) from the registry."""
        registry = self.store.registry
        if registry.generation != self._generation:
            self._info[:] = False
            self._generation = registry.generation
        if not len(meters):
            return
        size = int(meters.max()) + 1
        if size > len(self._info):
            size = max(size, 2 * len(self._info), 1024)
            grown = len(self._info)
            self._capacity = np.resize(self._capacity, size)
            self._digits = np.resize(self._digits, size)
            self._max_rate = np.resize(self._max_rate, size)
            info = np.zeros(size, dtype=bool)
            info[:grown] = self._info
            self._info = info
        by_id = registry.by_id
        for meter_id in meters[~self._info[meters]].tolist():
            m = by_id.get(meter_id)
            if m is None:  # forgotten meanwhile: look again next batch
                self._capacity[meter_id], self._digits[meter_id] = 0.0, 0
                self._max_rate[meter_id] = np.inf
                continue
            digits = m.capacity_digits or 0
            self._digits[meter_id] = digits
            self._capacity[meter_id] = 10.0**digits if digits else 0.0
            rate = self._rate(m)
            self._max_rate[meter_id] = rate if rate is not None else np.inf
            self._info[meter_id] = True

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

        # Time and value, for every element at once; the same limits for every source.
        limits = self.limits
        tolerance = int(limits.clock_tolerance.total_seconds() * 1e6)
        window = int(limits.backfill.total_seconds() * 1e6)
        future = ts > now_us + tolerance
        too_old = (ts < now_us - window) & ~future
        bad_time = future | too_old
        if len(cols.end) and bool(np.any(end_raw := np.array(cols.end, dtype=np.int64) != NO_END)):
            ends = np.array(cols.end, dtype=np.int64)
            bad_end = end_raw & ~bad_time & ((ends <= ts) | (ends > now_us + tolerance))
        else:
            bad_end = np.zeros(n, dtype=bool)
        with np.errstate(invalid="ignore"):
            not_finite = ~np.isfinite(value) & ~bad_time & ~bad_end
            negative = (value < 0) & ~bad_time & ~bad_end & ~not_finite
            too_large = (value > limits.value_ceiling) & ~bad_time & ~bad_end & ~not_finite
        old_env = "UCHET_BACKFILL_DAYS"
        for mask, reason, what in (
            (future, Reason.FUTURE_TIMESTAMP, "is after now (UCHET_CLOCK_TOLERANCE_S)"),
            (too_old, Reason.TOO_OLD, f"is older than {limits.backfill.days} days ({old_env})"),
        ):
            for i in np.flatnonzero(mask):
                quarantine.append(
                    self._quarantine(cols, i, reason, f"ts {_dt(cols.ts[i]).isoformat()} {what}")
                )
        for i in np.flatnonzero(bad_end):
            quarantine.append(
                self._quarantine(
                    cols,
                    i,
                    Reason.MALFORMED,
                    f"interval end {_dt(cols.end[i]).isoformat()} is not after its start"
                    f" {_dt(cols.ts[i]).isoformat()} or is after now",
                )
            )
        for i in np.flatnonzero(not_finite):
            quarantine.append(
                self._quarantine(
                    cols, i, Reason.MALFORMED, f"value {cols.value[i]} is not a number"
                )
            )
        for i in np.flatnonzero(negative):
            quarantine.append(
                self._quarantine(cols, i, Reason.NEGATIVE_VALUE, f"value {cols.value[i]} < 0")
            )
        for i in np.flatnonzero(too_large):
            quarantine.append(
                self._quarantine(
                    cols,
                    i,
                    Reason.VALUE_TOO_LARGE,
                    f"value {cols.value[i]!r} is above the ceiling {limits.value_ceiling:g}"
                    " (UCHET_VALUE_CEILING)",
                )
            )
        ok &= ~(bad_time | bad_end | not_finite | negative | too_large)

        # Meters: the registry cache answers almost every lookup (mapped to ids in C).
        registry = self.store.registry
        keys = zip(cols.source, cols.meter, cols.channel, strict=True)
        mid = np.fromiter(map(registry.ids.get, keys, repeat(-1)), dtype=np.int32, count=n)
        absent = np.flatnonzero(ok & (mid < 0))
        if len(absent):
            # Meters the registry has never seen: their names are checked before the store
            # sees them (known meters passed this check when they were registered).
            wanted: dict[tuple[str, str, str], str | None] = {}
            for i in absent:
                key = (cols.source[i], cols.meter[i], cols.channel[i])
                if key not in wanted:
                    problem = identifier_problem(key[1])
                    wanted[key] = (
                        f"meter id {problem}"
                        if problem
                        else (f"channel {p}" if (p := identifier_problem(key[2])) else None)
                    )
            refused = await self._resolve({k for k, p in wanted.items() if p is None})
            for i in absent:
                key = (cols.source[i], cols.meter[i], cols.channel[i])
                mid[i] = registry.ids.get(key, -1)
                problem = wanted[key]
                if problem is not None or key in refused:
                    ok[i] = False
                    quarantine.append(
                        self._quarantine(
                            cols,
                            i,
                            Reason.INVALID_IDENTIFIER if problem else Reason.STORE_REFUSED,
                            problem or f"the database refused the meter: {refused[key]}",
                        )
                    )
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
                cols, registers, mid, ts, value, flags, ok, quarantine, last_updates
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
        quarantine: list[QuarantineRow],
        last_updates: dict[int, Last],
    ) -> None:
        idx = idx[np.lexsort((ts[idx], mid[idx]))]
        m, t, v = mid[idx], ts[idx], value[idx]
        # m is sorted: the first element of each run is a distinct meter
        first = np.ones(len(m), dtype=bool)
        first[1:] = m[1:] != m[:-1]
        meters = m[first].astype(np.int64)
        self.last.grow(int(meters[-1]) + 1)
        unseen = meters[self.last.ts[meters] == NONE_TS]
        if len(unseen):
            stored = await self.store.last_registers(unseen.tolist())
            for meter_id, (when, val) in stored.items():
                self.last[meter_id] = (to_us(when), val)
        self._meter_info(meters)
        # A value at or above the register's capacity (10^digits) cannot be read off the meter.
        capacity = self._capacity[m]
        over = (capacity > 0) & (v >= capacity)
        if over.any():
            for p in np.flatnonzero(over):
                i = idx[p]
                quarantine.append(
                    self._quarantine(
                        cols,
                        i,
                        Reason.VALUE_TOO_LARGE,
                        f"value {cols.value[i]!r} does not fit the meter's register of"
                        f" {int(self._digits[m[p]])} digits",
                    )
                )
                ok[i] = False
            keep = ~over
            idx, m, t, v = idx[keep], m[keep], t[keep], v[keep]
            if not len(idx):
                return
        last_ts = self.last.ts[m]
        last_value = self.last.value[m]
        capacity = self._capacity[m]
        max_rate = self._max_rate[m]
        checks = check_registers(
            m, t, v, last_ts=last_ts, last_value=last_value, capacity=capacity, max_rate=max_rate
        )
        status = checks.status
        # Meters with a rollback: the vector pass compared later values with the rolled-back
        # one; check those meters again one by one against the last accepted value.
        for meter_id in np.unique(m[status == STATUS_ROLLBACK]):
            positions = np.flatnonzero((m == meter_id) & (status != STATUS_BACKFILL))
            stored_last = self.last.get(int(meter_id))
            prev = (_dt(stored_last[0]), stored_last[1]) if stored_last else None
            for p in positions:
                when = _dt(t[p])
                if prev is not None and when == prev[0]:
                    status[p] = STATUS_SAME_KEY
                    continue
                verdict = check_register(
                    float(v[p]),
                    when,
                    prev,
                    capacity_digits=self._capacity_digits(int(m[p])),
                    max_rate=self._max_rate_of(int(m[p])),
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
                before, after, taken = around.get((int(m[p]), _dt(t[p])), (None, None, False))
                if taken:  # the same key is stored: a duplicate or a conflict, not a rollback
                    continue
                verdict = check_backfill(
                    float(v[p]),
                    _dt(t[p]),
                    before,
                    after,
                    capacity_digits=self._capacity_digits(int(m[p])),
                    max_rate=self._max_rate_of(int(m[p])),
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
            ends = accepted[tail]
            last_updates.update(
                zip(
                    m[ends].tolist(),
                    zip(t[ends].tolist(), v[ends].tolist(), strict=True),
                    strict=True,
                )
            )

    async def _resolve(self, keys: set[tuple[str, str, str]]) -> dict[tuple[str, str, str], str]:
        """Resolves (registers) meters; those the database refuses are returned with why."""
        if not keys:
            return {}
        try:
            await self.store.resolve(sorted(keys), register=self.register_unknown)
            return {}
        except StoreError as exc:
            if exc.retryable or len(keys) == 1:
                if exc.retryable:
                    raise
                return {next(iter(keys)): str(exc)}
        refused: dict[tuple[str, str, str], str] = {}
        for key in sorted(keys):  # one by one: find the ones refused
            refused.update(await self._resolve({key}))
        return refused

    def forget(self, meter_id: int) -> None:
        """Drops a meter's last value: the next batch reads it from the store again."""
        if 0 <= meter_id < len(self.last.ts):
            self.last.ts[meter_id] = NONE_TS

    def _capacity_digits(self, meter_id: int) -> int | None:
        return int(self._digits[meter_id]) or None

    def _max_rate_of(self, meter_id: int) -> float | None:
        rate = float(self._max_rate[meter_id])
        return None if rate == np.inf else rate

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
