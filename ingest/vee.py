"""Batch VEE of a period, one use case for the CLI, the API, the gateway's schedule and the
city replay: load from the store, run :mod:`core.vee` off the event loop, write the results
(anomalies, the daily house balance, interval estimates), replacing an earlier run."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from adapters.store import ReadingStore
from adapters.store.vee import load_period, premise_meters, save_run
from core.periods import month_bounds, parse_period
from core.vee import VeeSettings
from core.vee.assemble import assess

HISTORY = timedelta(weeks=3)
"""Readings before the period kept for the interval estimation."""


STEPS = 3
"""Steps of a run, for a progress bar: load, compute, write."""


def _quiet(done: int, total: int) -> None:
    """No progress wanted."""


@dataclass(frozen=True, slots=True)
class VeeReport:
    period: str
    run_id: int
    meters: int
    readings: int
    off_grid: int
    anomalies: dict[str, int]
    estimates: int
    houses_balanced: int
    load_s: float
    compute_s: float
    write_s: float


async def run_vee(
    store: ReadingStore,
    period: str,
    *,
    timezone: str = "Europe/Moscow",
    settings: VeeSettings | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> VeeReport:
    """VEE of ``period``; ``on_progress(done, total)`` counts its steps (load, compute,
    write) as each ends."""
    progress = on_progress or _quiet
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    year, month = parse_period(period)
    start, nxt = month_bounds(year, month, timezone)
    meters, readings = await load_period(store, start, nxt, start - HISTORY)
    bound = await premise_meters(store)
    load_s = time.perf_counter() - t0
    progress(1, STEPS)
    t1 = time.perf_counter()
    hours = int((nxt - start).total_seconds() // 3600)
    outcome = await asyncio.to_thread(
        assess,
        meters,
        readings,
        start=start,
        hours=hours,
        history_hours=int(HISTORY.total_seconds() // 3600),
        local_first_day=date(year, month, 1),
        timezone=timezone,
        settings=settings,
        premise_meters=bound,
    )
    compute_s = time.perf_counter() - t1
    progress(2, STEPS)
    run_id, write_s = await save_run(
        store,
        date(year, month, 1),
        outcome,
        started=started,
        meters=len(meters),
        readings=len(readings.value),
        estimates_between=(start, nxt),
        load_s=load_s,
        compute_s=compute_s,
    )
    progress(3, STEPS)
    return VeeReport(
        period=period,
        run_id=run_id,
        meters=len(meters),
        readings=len(readings.value),
        off_grid=outcome.off_grid,
        anomalies=outcome.counts,
        estimates=len(outcome.estimates),
        houses_balanced=outcome.houses_balanced,
        load_s=load_s,
        compute_s=compute_s,
        write_s=write_s,
    )
