"""The one place that validates and writes readings: every source goes through an ``Intake``.

MQTT and Modbus (through :class:`ingest.pipeline.Pipeline`), resident submissions, 80020 and
register files, quarantine replay and the city replay all hand columns to an ``Intake`` built
once from the settings and the store. It owns:

- the limits from the settings (clock tolerance, back-fill window, value ceiling), applied
  the same to every source;
- the validator's state (the last accepted register value of each meter) and the order in
  which it moves on: after validation, before the write — a write either commits, is retried
  until it does, or has its refused rows isolated and quarantined (and their meters' state
  reloaded from the store);
- the classification of store errors: a transient one is retried with backoff (or raised to
  the caller that asked for no retries), a permanent refusal is narrowed down by bisecting
  the batch until the rows the database refuses are found and quarantined with its reason;
- the counters (received, stored, duplicates, conflicts, quarantined by reason).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from adapters.store import ReadingStore
from adapters.store.writer import BatchResult, QuarantineRow, WriteMode
from core.backoff import Backoff
from core.batch import Columns
from core.codes import Reason
from core.errors import StoreError
from core.validation import Limits
from ingest.validate import Validated, Validator, row_detail

if TYPE_CHECKING:
    from core.config import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


def limits_from(settings: Settings) -> Limits:
    """The validation limits the settings name (one rule for every source)."""
    return Limits(
        clock_tolerance=timedelta(seconds=settings.clock_tolerance_s),
        backfill=timedelta(days=settings.backfill_days),
        value_ceiling=settings.value_ceiling,
    )


@dataclass(slots=True)
class IntakeResult:
    """What one batch came to. ``quarantine`` holds the rows quarantined (with reasons)."""

    stored: int = 0
    duplicates: int = 0
    conflicts: int = 0
    superseded: int = 0
    quarantine: list[QuarantineRow] = field(default_factory=list)
    accepted_meter: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    accepted_flags: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))

    @property
    def quarantined(self) -> Counter[str]:
        return Counter(str(q.reason) for q in self.quarantine)

    def add(self, r: BatchResult) -> None:
        self.stored += r.inserted
        self.duplicates += r.duplicates
        self.conflicts += r.conflicts
        self.superseded += r.superseded


@dataclass(slots=True)
class IntakeTotals:
    """In-process counters of one intake (the store's counters are the durable ones)."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    conflicts: int = 0
    superseded: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    batches: int = 0
    store_failures: int = 0
    refused_rows: int = 0

    def count(self, result: IntakeResult) -> None:
        """Adds a written batch."""
        self.batches += 1
        self.stored += result.stored
        self.duplicates += result.duplicates
        self.conflicts += result.conflicts
        self.superseded += result.superseded
        self.quarantined.update(result.quarantined)


class Intake:
    """Validates and writes batches of readings for every source (see the module doc).

    ``retry``: transient store errors are retried with backoff until they pass (the gateway's
    sources acknowledge upstream only after the commit); False raises them to the caller
    (an HTTP request, a CLI import) at once.
    """

    def __init__(
        self,
        store: ReadingStore,
        *,
        limits: Limits | None = None,
        register_unknown: bool = True,
        retry: bool = True,
    ) -> None:
        self.store = store
        self.limits = limits or Limits()
        self.validator = Validator(store, limits=self.limits, register_unknown=register_unknown)
        self.retry = retry
        self.totals = IntakeTotals()
        self._store_down_since: float | None = None
        # Validation reads and moves the shared last-value state: one batch at a time (the
        # gateway's pipeline and its file inbox share one intake).
        self._validating = asyncio.Lock()

    @classmethod
    def from_settings(
        cls,
        store: ReadingStore,
        settings: Settings,
        *,
        register_unknown: bool | None = None,
        retry: bool = True,
    ) -> Intake:
        if register_unknown is None:
            register_unknown = settings.unknown_meters == "register"
        return cls(
            store, limits=limits_from(settings), register_unknown=register_unknown, retry=retry
        )

    @property
    def register_unknown(self) -> bool:
        return self.validator.register_unknown

    # -- the two stages (the pipeline overlaps them; everyone else calls ingest) --

    async def prepare(self, cols: Columns, *, fresh: bool = False) -> Validated:
        """Validates a batch and moves the last-value state on (stage 1).

        ``fresh``: compare with the store's last values, not with what this process remembers
        (another process writes the same meters: the API beside the gateway).
        """
        self.totals.received += len(cols)
        async with self._validating:
            if fresh:
                self.validator.last.clear()
            validated = await self._attempt(lambda: self.validator.validate(cols))
            self.validator.commit(validated)
        return validated

    async def write(
        self,
        validated: Validated,
        *,
        source: str,
        mode: WriteMode = "first",
        correction_ref: int | None = None,
    ) -> IntakeResult:
        """Writes a validated batch (stage 2): committed, or its refused rows quarantined."""
        result = IntakeResult(
            quarantine=list(validated.quarantine),
            accepted_meter=validated.meter,
            accepted_flags=validated.flags,
        )
        await self._write_part(validated, None, source, mode, correction_ref, result,
                               with_quarantine=True)  # fmt: skip
        self.totals.count(result)
        return result

    async def ingest(
        self,
        cols: Columns,
        *,
        source: str,
        mode: WriteMode = "first",
        correction_ref: int | None = None,
        fresh: bool = False,
        annotate: Callable[[Validated], None] | None = None,
    ) -> IntakeResult:
        """Validates and writes one batch; ``annotate`` may edit the quarantine rows first
        (a file importer adds the file and row to each detail)."""
        validated = await self.prepare(cols, fresh=fresh)
        if annotate is not None:
            annotate(validated)
        return await self.write(validated, source=source, mode=mode, correction_ref=correction_ref)

    # -- store errors --

    async def _attempt(self, step: Callable[[], Awaitable[T]]) -> T:
        """Runs a store step; transient failures are retried while ``retry`` says so."""
        backoff = Backoff()
        while True:
            try:
                result = await step()
            except StoreError as exc:
                if not exc.retryable or not self.retry:
                    raise
                self.totals.store_failures += 1
                if self._store_down_since is None:
                    self._store_down_since = time.monotonic()
                    log.warning("store unavailable, retrying with backoff: %s", exc)
                await asyncio.sleep(backoff.next_delay())
                continue
            if self._store_down_since is not None:
                log.warning(
                    "store recovered after %.1f s", time.monotonic() - self._store_down_since
                )
                self._store_down_since = None
            return result

    async def _write_part(
        self,
        v: Validated,
        rows: np.ndarray | None,
        source: str,
        mode: WriteMode,
        ref: int | None,
        result: IntakeResult,
        *,
        with_quarantine: bool,
    ) -> None:
        """Writes ``rows`` of ``v`` (None: all of them, uncopied); a permanent refusal is
        bisected down to the bad rows."""
        quarantine = result.quarantine if with_quarantine else []
        columns = _columns(v) if rows is None else [c[rows] for c in _columns(v)]
        try:
            batch = await self._attempt(
                lambda: self.store.write_arrays(
                    *columns,
                    quarantine,
                    source=source,
                    mode=mode,
                    correction_ref=ref,
                )
            )
        except StoreError as exc:
            if exc.retryable:
                raise
            if with_quarantine and quarantine:
                # the quarantine rows go on their own, so a bad reading cannot keep them out
                await self._attempt(
                    lambda: self.store.write_arrays(
                        *_empty(), quarantine, source=source, mode=mode, correction_ref=ref
                    )
                )
            await self._isolate(
                v, np.arange(len(v)) if rows is None else rows, source, mode, ref, result, exc
            )
            return
        result.add(batch)

    async def _isolate(
        self,
        v: Validated,
        rows: np.ndarray,
        source: str,
        mode: WriteMode,
        ref: int | None,
        result: IntakeResult,
        exc: StoreError,
    ) -> None:
        if len(rows) > 1:
            half = len(rows) // 2
            for part in (rows[:half], rows[half:]):
                await self._write_part(v, part, source, mode, ref, result, with_quarantine=False)
            return
        if not len(rows):
            return
        # One row the database refuses: quarantine it with the database's reason, and let
        # its meter's last value come from the store again.
        i = int(rows[0])
        meter_id = int(v.meter[i])
        meter = self.store.registry.by_id.get(meter_id)
        row = QuarantineRow(
            source,
            Reason.STORE_REFUSED,
            f"the database refused the reading: {exc}; {row_detail(v, i)}",
            meter.external_id if meter else None,
            meter.channel if meter else None,
            row_detail(v, i).encode(),
        )
        log.warning("store refused a reading of meter id %d: %s", meter_id, exc)
        self.validator.forget(meter_id)
        self.totals.refused_rows += 1
        await self._attempt(
            lambda: self.store.write_arrays(
                *_empty(), [row], source=source, mode=mode, correction_ref=ref
            )
        )
        result.quarantine.append(row)


def _columns(v: Validated) -> list[np.ndarray]:
    """The arrays of a validated batch in the order ``write_arrays`` takes them."""
    return [v.meter, v.ts, v.value, v.kind, v.flags, v.end]


def _empty() -> tuple[np.ndarray, ...]:
    return (
        np.zeros(0, np.int32),
        np.zeros(0, np.int64),
        np.zeros(0, np.float64),
        np.zeros(0, np.int16),
        np.zeros(0, np.int32),
        np.zeros(0, np.int64),
    )
