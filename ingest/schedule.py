"""Batch VEE on a schedule inside the gateway: the current period every ``vee_interval_s``
(and the previous one during the first days of a month, while late readings still arrive)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from adapters.store import ReadingStore
from core.errors import UchetError
from core.vee import VeeSettings
from ingest.vee import CHUNK_HOUSES, run_vee

log = logging.getLogger(__name__)


def due_periods(now: datetime, timezone: str, *, previous_days: int = 5) -> list[str]:
    local = now.astimezone(ZoneInfo(timezone))
    periods = [f"{local.year:04d}-{local.month:02d}"]
    if local.day <= previous_days:
        y, m = (local.year, local.month - 1) if local.month > 1 else (local.year - 1, 12)
        periods.insert(0, f"{y:04d}-{m:02d}")
    return periods


async def vee_schedule(
    store: ReadingStore,
    *,
    interval_s: float,
    timezone: str,
    stop: asyncio.Event,
    vee: VeeSettings | None = None,
    chunk_houses: int = CHUNK_HOUSES,
) -> None:
    """Runs until ``stop``, first after one interval; a failed run is logged and tried again at
    the next tick. ``vee``: ``Settings.vee_settings()``, what ``uchet vee`` runs with too."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
        if stop.is_set():
            return
        for period in due_periods(datetime.now(UTC), timezone):
            try:
                report = await run_vee(
                    store, period, timezone=timezone, settings=vee, chunk_houses=chunk_houses
                )
            except (UchetError, OSError) as exc:
                log.warning("scheduled VEE of %s failed: %s", period, exc)
                continue
            log.info(
                "scheduled VEE of %s: %d meters, anomalies %s, %.1f s",
                period,
                report.meters,
                report.anomalies or "none",
                report.load_s + report.compute_s + report.write_s,
            )
