"""Batch VEE of a period, one use case for the CLI, the API, the gateway's schedule and the
city replay: load from the store, run :mod:`core.vee` off the event loop, write the results
(anomalies, the daily house balance, interval estimates), replacing an earlier run.

The city is assessed a block of houses at a time (:data:`CHUNK_HOUSES`) inside one
transaction, so memory follows the block, not the fleet."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from adapters.store import ReadingStore
from adapters.store.vee import (
    begin_run,
    finish_run,
    period_meters,
    period_readings,
    premise_meters,
    save_results,
    vee_connection,
)
from core.periods import month_bounds, parse_period
from core.vee import VeeSettings
from core.vee.assemble import VeeMeter, assess

HISTORY = timedelta(weeks=3)
"""Readings before the period kept for the interval estimation."""

CHUNK_HOUSES = 10
"""Houses loaded, assessed and written at a time (``Settings.vee_chunk_houses``): memory is
bounded by a block of houses, not the city (every check looks at one meter or one house, so
blocks change no result). A city of 100 houses: 10 → 0.26 GB, 100 → 1.6 GB, the same time."""

STEPS = 3
"""Steps of a block, for a progress bar: load, compute, write."""


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
    blocks: int = 1


def house_blocks(meters: Sequence[VeeMeter], houses: int) -> list[list[VeeMeter]]:
    """``meters`` (in house order) cut into blocks of ``houses`` whole houses (the meters of
    no house count as one)."""
    blocks: list[list[VeeMeter]] = []
    for k, (_, group) in enumerate(itertools.groupby(meters, key=lambda m: m.house)):
        if k % houses == 0:
            blocks.append([])
        blocks[-1].extend(group)
    return blocks


async def run_vee(
    store: ReadingStore,
    period: str,
    *,
    timezone: str = "Europe/Moscow",
    settings: VeeSettings | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    chunk_houses: int = CHUNK_HOUSES,
) -> VeeReport:
    """VEE of ``period``, ``chunk_houses`` houses at a time, replacing the period's earlier run
    in one transaction; ``on_progress(done, total)`` counts the steps (load, compute, write of
    each block) as each ends."""
    progress = on_progress or _quiet
    started = datetime.now(UTC)
    year, month = parse_period(period)
    start, nxt = month_bounds(year, month, timezone)
    hours = int((nxt - start).total_seconds() // 3600)
    period_day = date(year, month, 1)
    times = {"load_s": 0.0, "compute_s": 0.0, "write_s": 0.0}
    counts: Counter[str] = Counter()
    n_readings = off_grid = estimates = balanced = anomalies = 0
    async with vee_connection(store) as conn:
        t0 = time.perf_counter()
        meters = await period_meters(conn, start, nxt)
        bound = await premise_meters(conn)
        blocks = house_blocks(meters, max(chunk_houses, 1)) or [[]]
        times["load_s"] += time.perf_counter() - t0
        run_id = await begin_run(conn, period_day, started)
        total = STEPS * len(blocks)
        for k, block in enumerate(blocks):
            t0 = time.perf_counter()
            readings = await period_readings(conn, block, start - HISTORY, nxt)
            times["load_s"] += time.perf_counter() - t0
            progress(STEPS * k + 1, total)
            t0 = time.perf_counter()
            outcome = await asyncio.to_thread(
                assess,
                block,
                readings,
                start=start,
                hours=hours,
                history_hours=int(HISTORY.total_seconds() // 3600),
                local_first_day=period_day,
                timezone=timezone,
                settings=settings,
                premise_meters=bound,
                now=started,
            )
            times["compute_s"] += time.perf_counter() - t0
            progress(STEPS * k + 2, total)
            t0 = time.perf_counter()
            await save_results(conn, run_id, period_day, outcome, estimates_between=(start, nxt))
            times["write_s"] += time.perf_counter() - t0
            progress(STEPS * k + 3, total)
            n_readings += len(readings.value)
            off_grid += outcome.off_grid
            counts.update(outcome.counts)
            anomalies += len(outcome.anomalies)
            estimates += len(outcome.estimates)
            balanced += outcome.houses_balanced
            del readings, outcome  # the next block's arrays replace these, not join them
        figures = {
            "meters": len(meters),
            "readings": n_readings,
            "off_grid": off_grid,
            "anomalies": anomalies,
            "estimates": estimates,
            **times,
        }
        await finish_run(conn, run_id, figures)
    return VeeReport(
        period=period,
        run_id=run_id,
        meters=len(meters),
        readings=n_readings,
        off_grid=off_grid,
        anomalies=dict(counts),
        estimates=estimates,
        houses_balanced=balanced,
        blocks=len(blocks),
        **times,
    )
