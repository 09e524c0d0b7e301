"""Resident reading submissions through the shared validation, written by group commit.

Every submission waits in one queue; a single task takes what has gathered (at most one per
meter, so each answer maps to exactly one element), checks ownership, validates the batch with
:class:`ingest.validate.Validator` and writes it in one transaction. Under load many requests
share a commit; alone, a request is written at once (no timer).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

import numpy as np

from adapters.store import ReadingStore
from adapters.store.queries import last_reading, meters_by_id, stored_values
from api.metrics import Metrics
from core.batch import EPOCH, Columns
from core.codes import Flag, Reason
from core.reading import Kind, Reading
from core.validation import check_register
from ingest.intake import Intake
from ingest.notify import after_submission
from ingest.validate import Validated

log = logging.getLogger(__name__)

ACCEPTED, FLAGGED, DUPLICATE, REJECTED, NOT_FOUND = (
    "accepted",
    "flagged",
    "duplicate",
    "rejected",
    "not_found",
)
UNCONFIRMED, CORRECTED = "unconfirmed", "corrected"
"""An unusual value waits for the resident's confirmation; a correction replaced the last one."""
NEEDS_CONFIRMATION = Flag.IMPLAUSIBLE_RATE
"""Flags that make a resident confirm the value before it is stored (a typo ×100, say)."""
CONFLICT = "conflict"  # a reason: another value is stored for the same time


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    flags: int = 0
    reason: str | None = None
    detail: str | None = None  # Russian, for the resident


@dataclass(slots=True)
class _Item:
    premise_id: str
    meter_id: int
    value: float
    ts: datetime
    dated: bool  # the resident gave the time: it may repeat a stored one
    confirmed: bool  # the resident confirmed an unusual value
    future: asyncio.Future[Outcome]


def _num(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".")


def rejection_detail(
    reason: str, value: float, previous: tuple[datetime, float] | None, tz: tzinfo = UTC
) -> str:
    if reason == Reason.REGISTER_ROLLBACK:
        if previous is not None and value < previous[1]:
            return (
                f"Показание {_num(value)} меньше предыдущего принятого "
                f"{_num(previous[1])} от {previous[0].astimezone(tz):%d.%m.%Y}"
            )
        return f"Показание {_num(value)} больше следующего уже принятого показания"
    return {
        Reason.NEGATIVE_VALUE: "Показание не может быть отрицательным",
        Reason.FUTURE_TIMESTAMP: "Дата показания ещё не наступила",
        Reason.TOO_OLD: "Показание слишком старое",
        Reason.VALUE_TOO_LARGE: "Показание больше, чем может показать этот счётчик",
        Reason.STORE_REFUSED: "Показание не удалось сохранить; обратитесь в управляющую"
        " организацию",
    }.get(reason, f"Показание не принято ({reason})")  # type: ignore[call-overload]


FLAG_NOTES = {
    Flag.IMPLAUSIBLE_RATE: "расход необычно велик, показание будет проверено",
    Flag.ROLLOVER: "счётчик перешёл через ноль",
    Flag.OUT_OF_ORDER: "показание внесено задним числом",
}


def flag_detail(flags: int) -> str:
    notes = [text for flag, text in FLAG_NOTES.items() if flags & flag]
    return "Принято: " + "; ".join(notes)


class SubmissionQueue:
    def __init__(
        self,
        store: ReadingStore,
        *,
        metrics: Metrics,
        max_batch: int,
        intake: Intake,
        timezone: tzinfo = UTC,
    ) -> None:
        self.store = store
        self.timezone = timezone
        self.metrics = metrics
        self.max_batch = max_batch
        # Built with register_unknown=False (a submission only ever names a meter row that
        # exists) and retry=False (a store outage is the request's answer, 503).
        self.intake = intake
        self._pending: deque[_Item] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        metrics.queue_depth.set_function(lambda: len(self._pending))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="submissions")

    async def stop(self, *, deadline_s: float = 10.0) -> None:
        """Stops intake and drains what is queued (within the deadline)."""
        self._closing = True
        self._wake.set()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._task, deadline_s)
        except TimeoutError:
            log.warning("submission queue: %d left undone at shutdown", len(self._pending))
        for item in self._pending:
            if not item.future.done():
                item.future.cancel()

    def __len__(self) -> int:
        return len(self._pending)

    async def submit(
        self,
        premise_id: str,
        meter_id: int,
        value: float,
        ts: datetime,
        *,
        dated: bool,
        confirmed: bool = False,
    ) -> Outcome:
        """Queues a submission; an unusual value (:data:`NEEDS_CONFIRMATION`) is stored only
        when ``confirmed``, else the answer is :data:`UNCONFIRMED` and nothing is stored."""
        if self._closing or self._task is None or self._task.done():
            raise RuntimeError("the submission queue is not running")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._pending.append(_Item(premise_id, meter_id, value, ts, dated, confirmed, future))
        self._wake.set()
        outcome = await future
        self.metrics.count_submission(outcome.status)
        return outcome

    def _take(self) -> list[_Item]:
        batch: list[_Item] = []
        seen: set[int] = set()
        later: list[_Item] = []
        while self._pending and len(batch) < self.max_batch:
            item = self._pending.popleft()
            if item.future.done():  # the client went away
                continue
            if item.meter_id in seen:
                later.append(item)
            else:
                seen.add(item.meter_id)
                batch.append(item)
        self._pending.extendleft(reversed(later))
        return batch

    async def _run(self) -> None:
        while True:
            if not self._pending:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = self._take()
            if not batch:
                continue
            started = time.perf_counter()
            try:
                outcomes = await self._process(batch)
            except Exception as exc:  # every waiter gets the error; the loop goes on
                log.error("submission batch of %d failed: %s", len(batch), exc)
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(exc)
                continue
            self.metrics.batch_seconds.observe(time.perf_counter() - started)
            self.metrics.batch_size.observe(len(batch))
            for item, outcome in zip(batch, outcomes, strict=True):
                if not item.future.done():
                    item.future.set_result(outcome)

    async def _process(self, batch: list[_Item]) -> list[Outcome]:
        store = self.store
        meters = await meters_by_id(store, [item.meter_id for item in batch])
        owned = [
            i
            for i, item in enumerate(batch)
            if (m := meters.get(item.meter_id)) is not None and m.premise_id == item.premise_id
        ]
        # Only a dated submission can hit a stored time (undated ones are stamped now).
        dated = [i for i in owned if batch[i].dated]
        stored = await stored_values(store, [(batch[i].meter_id, batch[i].ts) for i in dated])
        outcomes = [Outcome(NOT_FOUND) for _ in batch]
        if not owned:
            return outcomes
        cols = Columns()
        for i in owned:
            item, m = batch[i], meters[batch[i].meter_id]
            # The meter's own registry key, so validation and the store see the same meter.
            cols.append_reading(
                Reading(
                    meter=m.external_id,
                    channel=m.channel,
                    ts=item.ts,
                    value=item.value,
                    kind=Kind.REGISTER,
                    source=m.source,
                    flags=int(Flag.MANUAL),
                )
            )
        # Other processes (the gateway) write the same meters: compare with the store's last
        # value, not with what this process remembers.
        validated = await self.intake.prepare(cols, fresh=True)
        unconfirmed = self._hold_unconfirmed(validated, batch, owned)
        result = await self.intake.write(validated, source="api")
        rejected = {(q.meter, q.channel): q.reason for q in result.quarantine}
        flags = dict(
            zip(result.accepted_meter.tolist(), result.accepted_flags.tolist(), strict=True)
        )
        for i in owned:
            item, m = batch[i], meters[batch[i].meter_id]
            if item.meter_id in unconfirmed:
                outcomes[i] = Outcome(
                    UNCONFIRMED, unconfirmed[item.meter_id], detail=confirm_detail(item.value)
                )
                continue
            reason = rejected.get((m.external_id, m.channel))
            if reason is not None:
                last = self.intake.validator.last.get(item.meter_id)
                previous = (EPOCH + _us(last[0]), last[1]) if last is not None else None
                outcomes[i] = Outcome(
                    REJECTED,
                    reason=reason,
                    detail=rejection_detail(reason, item.value, previous, self.timezone),
                )
                continue
            old = stored.get((item.meter_id, item.ts))
            if old is not None:
                outcomes[i] = (
                    Outcome(DUPLICATE, detail="Это показание уже было принято")
                    if old == item.value
                    else Outcome(
                        REJECTED,
                        reason=CONFLICT,
                        detail=f"На это время уже принято другое показание: {_num(old)}",
                    )
                )
                continue
            bits = int(flags.get(item.meter_id, int(Flag.MANUAL)))
            extra = bits & ~int(Flag.MANUAL)
            outcomes[i] = (
                Outcome(FLAGGED, bits, detail=flag_detail(extra))
                if extra
                else Outcome(ACCEPTED, bits)
            )
        stored_now = [
            (batch[i].meter_id, batch[i].ts)
            for i in owned
            if outcomes[i].status in (ACCEPTED, FLAGGED)
        ]
        after_submission(store.pool, stored_now, self.timezone)  # «показание принято», issue 21
        return outcomes

    @staticmethod
    def _hold_unconfirmed(
        validated: Validated, batch: list[_Item], owned: list[int]
    ) -> dict[int, int]:
        """Takes unusual values the resident has not confirmed out of the write."""
        confirmed = {batch[i].meter_id for i in owned if batch[i].confirmed}
        hold = (validated.flags & int(NEEDS_CONFIRMATION)) != 0
        if not hold.any():
            return {}
        hold &= ~np.isin(validated.meter, np.fromiter(confirmed, np.int32, len(confirmed)))
        held = dict(
            zip(validated.meter[hold].tolist(), validated.flags[hold].tolist(), strict=True)
        )
        for name in ("meter", "ts", "value", "kind", "flags", "end"):
            setattr(validated, name, getattr(validated, name)[~hold])
        return held

    async def correct(
        self, premise_id: str, meter_id: int, value: float, *, since: datetime
    ) -> Outcome:
        """Replaces the resident's own last reading of a meter (a typo) with ``value``.

        Only a reading entered by a person (``manual``) and taken at or after ``since`` (the
        start of the period not yet closed) can be corrected; the new value must not be below
        the reading before it. The old value is kept in ``corrections``.
        """
        meters = await meters_by_id(self.store, [meter_id])
        m = meters.get(meter_id)
        if m is None or m.premise_id != premise_id:
            return Outcome(NOT_FOUND)
        last = await last_reading(self.store, meter_id)
        if last is None or not last.flags & Flag.MANUAL or last.ts < since:
            return Outcome(
                REJECTED,
                reason=NOT_CORRECTABLE,
                detail="Исправить можно только своё последнее показание текущего периода",
            )
        cols = Columns()
        cols.append_reading(
            Reading(
                meter=m.external_id,
                channel=m.channel,
                ts=last.ts,
                value=value,
                kind=Kind.REGISTER,
                source=m.source,
                flags=int(Flag.MANUAL),
            )
        )
        around = await self.store.neighbours([(meter_id, last.ts)])
        before = around.get((meter_id, last.ts), (None, None, True))[0]
        verdict = check_register(value, last.ts, before)
        if verdict.reason is not None:
            return Outcome(
                REJECTED,
                reason=verdict.reason,
                detail=rejection_detail(verdict.reason, value, before, self.timezone),
            )
        cols.flags[0] |= verdict.flags
        result = await self.intake.ingest(cols, source="api", mode="supersede", fresh=True)
        if result.quarantine:
            q = result.quarantine[0]
            return Outcome(REJECTED, reason=q.reason, detail=q.detail)
        self.metrics.count_submission(CORRECTED)
        return Outcome(
            CORRECTED,
            int(cols.flags[0]),
            detail=f"Показание {_num(last.value)} исправлено на {_num(value)}",
        )


NOT_CORRECTABLE = "not_correctable"


def confirm_detail(value: float) -> str:
    return (
        f"Показание {_num(value)} намного больше обычного расхода. Проверьте его и отправьте"
        " ещё раз с подтверждением (confirm), если оно верно"
    )


def _us(us: int) -> timedelta:
    return timedelta(microseconds=int(us))


def utc_now() -> datetime:
    return datetime.now(UTC)
