"""A period's stored readings -> the batch pass's fleet, and its results -> rows to store.

Pure: the store adapter loads the rows (:mod:`adapters.store.vee`), the use case
(:mod:`ingest.vee`) runs this off the event loop and writes what it returns.

Register readings are placed on the hourly grid (readings more than 5 minutes off the hour —
monthly resident readings, say — are counted, not used); interval readings are summed per
hour, with the history before the period kept for the estimation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from core.channels import SERVICES
from core.vee.batch import run_batch
from core.vee.codes import EstimateMethod
from core.vee.estimate import estimate_intervals
from core.vee.fleet import Fleet
from core.vee.settings import VeeSettings

SNAP_S = 300
"""A register reading within this many seconds of an hour is taken as that hour's."""


@dataclass(frozen=True, slots=True)
class VeeMeter:
    """A meter with readings in the period, as the batch pass needs it."""

    id: int
    source: str
    external_id: str
    channel: str
    service: str
    capacity_digits: int | None
    house: str | None  # the house of its premise, or its own house (a house meter)
    is_house: bool


@dataclass(frozen=True, slots=True)
class PeriodReadings:
    """Every reading of the meters, from ``history_hours`` before the period to its end."""

    meter_index: np.ndarray  # index into the meter list, int64
    seconds: np.ndarray  # epoch seconds, float64
    value: np.ndarray  # float64
    kind: np.ndarray  # 0 register, 1 interval


@dataclass(frozen=True, slots=True)
class VeeOutcome:
    """What a run found, as rows for the store."""

    anomalies: Sequence[tuple[object, ...]]
    """type, severity, service, meter id, house, start, end, evidence (JSON)"""
    balance: Sequence[tuple[object, ...]]
    """house, service, day, house volume, premises volume, ratio (None unless every premise
    meter of the house has daily data), premises with data, premise meters"""
    estimates: list[tuple[int, datetime, float, str]]  # meter id, ts, value, method
    counts: dict[str, int]  # anomalies by type
    off_grid: int
    houses_balanced: int


def assess(
    meters: list[VeeMeter],
    readings: PeriodReadings,
    *,
    start: datetime,
    hours: int,
    history_hours: int,
    local_first_day: date,
    timezone: str,
    settings: VeeSettings | None = None,
    premise_meters: Mapping[tuple[str, str], int] | None = None,
    now: datetime | None = None,
) -> VeeOutcome:
    """Runs the batch pass (:func:`core.vee.run_batch`) and the interval estimation.

    ``premise_meters``: (house, service) -> premise meters bound in the registry, including
    those with no reading in the period (the fleet does not see them): a house with any of
    them uncovered has no ratio. ``now``: hours after it are the future, not missing data.
    """
    n = len(meters)
    mi, secs, val, kind = readings.meter_index, readings.seconds, readings.value, readings.kind
    t0 = start.timestamp()
    col = np.rint((secs - t0) / 3600).astype(np.int64)
    on_grid = np.abs(secs - (t0 + col * 3600)) <= SNAP_S
    reg = (kind == 0) & (col >= 0) & (col <= hours)
    register = np.full((n, hours + 1), np.nan)
    use = reg & on_grid
    register[mi[use], col[use]] = val[use]
    off_grid = int((reg & ~on_grid).sum())
    width = history_hours + hours
    hour = np.floor((secs - t0) / 3600).astype(np.int64) + history_hours
    itv = (kind == 1) & (hour >= 0) & (hour < width)
    # Dense rows only for the meters with interval data (few: ASKUE points), not the fleet.
    rows_i = np.unique(mi[itv])
    interval_i = np.full((rows_i.size, width), np.nan)
    if rows_i.size:
        flat = np.zeros(rows_i.size * width)
        seen = np.zeros(rows_i.size * width, dtype=bool)
        cells = np.searchsorted(rows_i, mi[itv]) * width + hour[itv]
        np.add.at(flat, cells, val[itv])
        seen[cells] = True
        interval_i = np.where(seen, flat, np.nan).reshape(rows_i.size, width)
        del flat, seen, cells
    interval = None
    if rows_i.size:
        interval = np.full((n, hours), np.nan)
        interval[rows_i] = interval_i[:, history_hours:]
    houses = sorted({m.house for m in meters if m.house is not None})
    house_index = {h: i for i, h in enumerate(houses)}
    fleet = Fleet(
        start=start,
        register=register,
        house=np.array(
            [house_index[m.house] if m.house is not None else -1 for m in meters], dtype=np.int64
        ),
        service=np.array([SERVICES.index(m.service) for m in meters], dtype=np.int64),
        is_house_meter=np.array([m.is_house for m in meters], dtype=bool),
        digits=np.array([m.capacity_digits or 0 for m in meters], dtype=np.int64),
        allows_export=np.array([":2.8." in m.channel for m in meters], dtype=bool),
        interval=interval,
        meter_ids=tuple(f"{m.source}:{m.external_id}:{m.channel}" for m in meters),
        house_ids=tuple(houses),
    )
    observed = None
    if now is not None and now < start + timedelta(hours=hours):
        observed = max(0, int((now - start).total_seconds() // 3600))
    result = run_batch(fleet, settings=settings, observed_hours=observed)
    estimates: list[tuple[int, datetime, float, str]] = []
    if rows_i.size:
        est = estimate_intervals(
            interval_i, start=start - timedelta(hours=history_hours), tz=timezone
        )
        r_idx, c_idx = np.nonzero(
            np.isin(est.method, (EstimateMethod.LINEAR, EstimateMethod.SAME_DAY_TYPE_AVERAGE))
        )
        for r, c in zip(r_idx, c_idx, strict=True):
            if c >= history_hours:
                estimates.append(
                    (
                        meters[rows_i[r]].id,
                        start + timedelta(hours=int(c - history_hours)),
                        float(est.values[r, c]),
                        EstimateMethod(int(est.method[r, c])).name.lower(),
                    )
                )
    anomalies = [
        (
            a.type.value,
            a.severity.name.lower(),
            a.service,
            meters[a.meter_index].id if a.meter_index is not None else None,
            houses[a.house_index] if a.house_index is not None else None,
            a.start,
            a.end,
            json.dumps(a.evidence, ensure_ascii=False, default=float),
        )
        for a in result.anomalies
    ]
    bal = result.balance
    balance = []
    for g in range(len(bal.house)):
        house, service = houses[int(bal.house[g])], SERVICES[int(bal.service[g])]
        covered = int(bal.covered[g])
        total = max(int(bal.premises[g]), (premise_meters or {}).get((house, service), 0))
        for d in range(bal.house_daily.shape[1]):
            ratio = float(bal.ratio[g, d])
            balance.append(
                (
                    house,
                    service,
                    local_first_day + timedelta(days=d),
                    None
                    if not np.isfinite(bal.house_daily[g, d])
                    else float(bal.house_daily[g, d]),
                    float(bal.premises_daily[g, d]),
                    ratio if np.isfinite(ratio) and covered == total else None,
                    covered,
                    total,
                )
            )
    counts: dict[str, int] = {}
    for a in result.anomalies:
        counts[a.type.value] = counts.get(a.type.value, 0) + 1
    return VeeOutcome(anomalies, balance, estimates, counts, off_grid, len(bal.house))
