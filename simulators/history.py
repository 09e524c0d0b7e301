"""A deterministic fleet history: houses with premise meters and an ОДПУ per service, hourly
consumption over D days, and injected faults with their ground truth.

The same history feeds :func:`core.vee.run_batch` (:attr:`History.fleet`) and, as
:class:`core.reading.Reading` s, the ingest pipeline (:func:`readings`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from core.channels import SERVICES
from core.reading import Kind, Reading
from core.vee.anomaly import Anomaly
from core.vee.codes import AnomalyType
from core.vee.fleet import Fleet

F64 = npt.NDArray[np.float64]

DAILY_MEAN = {"cold_water": 0.25, "hot_water": 0.15, "electricity": 7.0, "gas": 0.8}
"""Typical daily consumption of one premise, canonical units."""
RESOLUTION = {"cold_water": 0.001, "hot_water": 0.001, "electricity": 0.01, "gas": 0.001}
"""Register resolution: the last displayed digit."""
PREMISE_DIGITS = {"cold_water": 5, "hot_water": 5, "electricity": 6, "gas": 5}
HOUSE_DIGITS = {"cold_water": 7, "hot_water": 7, "electricity": 8, "gas": 7}

# Local-hour shape of residential use: low at night, morning and evening peaks.
_PROFILE = np.array(
    [2, 1, 1, 1, 1, 2, 5, 9, 9, 6, 4, 4, 4, 4, 4, 4, 5, 6, 8, 9, 9, 8, 6, 3], dtype=float
)
_PROFILE /= _PROFILE.sum()
_WEEKEND = np.roll(_PROFILE, 2)  # people get up later
_WEEKEND_LEVEL = 1.08


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultRates:
    """How many faults to inject. Meter faults are shares of premise meters (each faulty
    meter gets one fault); house faults are shares of houses."""

    spike: float = 0.03
    stuck: float = 0.02
    rollback: float = 0.02
    replacement: float = 0.02
    gap: float = 0.03
    near_rollover: float = 0.01  # not a fault: meters that roll over, to test precision
    leak: float = 0.1
    unregistered: float = 0.1
    spike_factor: tuple[float, float] = (4.0, 10.0)
    stuck_days: tuple[int, int] = (20, 40)
    rollback_days: tuple[float, float] = (5.0, 30.0)  # drop, in days of the meter's use
    gap_hours: tuple[int, int] = (2, 72)
    imbalance_share: tuple[float, float] = (0.10, 0.40)  # of the ОДПУ volume while it lasts


@dataclass(frozen=True, slots=True)
class Truth:
    """One injected fault. ``start_hour``/``end_hour`` are hours from the start (end
    exclusive); for rollbacks and replacements the register column of the drop and the one
    after it. ``magnitude``: spike factor, rollback drop, gap hours, imbalance share."""

    kind: AnomalyType
    service: str
    start_hour: int
    end_hour: int
    meter: int | None = None
    house: int | None = None
    magnitude: float = 0.0
    note: str = ""


@dataclass(frozen=True, slots=True)
class History:
    """The simulated period: VEE input, ground truth and the true consumption behind it."""

    fleet: Fleet
    truth: tuple[Truth, ...]
    true_hourly: F64 = field(repr=False)  # (M, H) what each meter should have counted
    measured_hourly: F64 = field(repr=False)  # (M, H) what it counted (faults applied)


def simulate_history(
    *,
    seed: int = 0,
    houses: int = 50,
    premises: tuple[int, int] = (8, 16),
    services: tuple[str, ...] = ("cold_water", "hot_water", "electricity"),
    days: int = 90,
    start: datetime = datetime(2025, 1, 5, 21, tzinfo=UTC),  # 00:00 Moscow, a Monday
    faults: FaultRates | None = None,
    interval_services: tuple[str, ...] = (),
) -> History:
    """Simulate ``houses`` houses with ``premises`` (min, max) premises each, one meter per
    premise and service plus one ОДПУ per house and service, hourly over ``days`` days.

    ``interval_services``: premise meters of these services also send hourly interval values
    (``Fleet.interval``). Deterministic for a given seed and arguments.
    """
    if days < 7:
        raise ValueError(f"days={days}: a history needs at least 7 days (faults need room)")
    f = faults or FaultRates()
    rng = np.random.default_rng(seed)
    n_s = len(services)
    sizes = rng.integers(premises[0], premises[1] + 1, size=houses)
    # Meter layout: per house, per service, its premises then its ОДПУ.
    house_of, service_of, odpu = [], [], []
    for h, size in enumerate(sizes):
        for s in range(n_s):
            house_of += [h] * (int(size) + 1)
            service_of += [s] * (int(size) + 1)
            odpu += [False] * int(size) + [True]
    house = np.array(house_of, dtype=np.int64)
    svc = np.array(service_of, dtype=np.int64)
    is_odpu = np.array(odpu, dtype=bool)
    m = house.size
    n_hours = 24 * days
    names = [services[int(s)] for s in svc]

    daily_mean = np.array([DAILY_MEAN[n] for n in names]) * rng.lognormal(0.0, 0.4, m)
    true = _premise_consumption(rng, daily_mean, days, start)
    true[is_odpu] = 0.0
    prem = np.flatnonzero(~is_odpu)
    order = rng.permutation(prem)
    truth: list[Truth] = []
    measured = true.copy()
    offsets = np.zeros((m, n_hours + 1))  # added to the register (rollbacks, replacements)
    nan_cols: list[tuple[int, int, int]] = []

    def take(share: float) -> npt.NDArray[np.int64]:
        nonlocal order
        k = round(share * prem.size)
        chosen, order = order[:k], order[k:]
        return np.sort(chosen)

    for meter in take(f.spike):
        d = int(rng.integers(0, days))
        factor = float(rng.uniform(*f.spike_factor))
        hours = slice(24 * d, 24 * (d + 1))
        extra = (factor - 1) * true[meter, hours]
        # A real burst of use: the ОДПУ sees it too (added below via true).
        true[meter, hours] += extra
        measured[meter, hours] += extra
        truth.append(
            Truth(
                AnomalyType.SPIKE,
                names[meter],
                hours.start,
                hours.stop,
                int(meter),
                int(house[meter]),
                factor,
            )
        )
    for meter in take(f.stuck):
        lo, hi = (min(x, days - 1) for x in f.stuck_days)
        length = 24 * int(rng.integers(lo, hi + 1))
        a = int(rng.integers(0, n_hours - length + 1))
        measured[meter, a : a + length] = 0.0
        truth.append(
            Truth(
                AnomalyType.STUCK,
                names[meter],
                a,
                a + length,
                int(meter),
                int(house[meter]),
                length / 24,
            )
        )
    rollback_meters = take(f.rollback)
    replacement_meters = take(f.replacement)
    for meter in take(f.gap):
        length = int(rng.integers(f.gap_hours[0], f.gap_hours[1] + 1))
        a = int(rng.integers(1, n_hours - length))
        nan_cols.append((int(meter), a, a + length))
        truth.append(
            Truth(
                AnomalyType.MISSING,
                names[meter],
                a,
                a + length,
                int(meter),
                int(house[meter]),
                length,
            )
        )
    near = take(f.near_rollover)

    # House faults: a leak on a water service, an unregistered consumer on any service.
    house_order = rng.permutation(houses)
    n_leak = round(f.leak * houses)
    n_unreg = round(f.unregistered * houses)
    extra_house = np.zeros((houses, n_s, n_hours))
    water = [i for i, n in enumerate(services) if n in ("cold_water", "hot_water")] or list(
        range(n_s)
    )
    premises_total = np.zeros((houses, n_s, n_hours))
    np.add.at(premises_total, (house, svc), true)
    for k, h in enumerate(house_order[: n_leak + n_unreg]):
        leak = k < n_leak
        s = int(rng.choice(water)) if leak else int(rng.integers(0, n_s))
        a = 24 * int(rng.integers(0, max(1, days - 14)))
        share = float(rng.uniform(*f.imbalance_share))
        base = premises_total[h, s, a:].mean()
        level = share / (1 - share) * base * 1.03  # 1.03: about the common-house use on top
        if leak:
            shape = np.ones(n_hours - a)
        else:
            shape = _premise_consumption(rng, np.array([1.0]), days, start)[0, a:] * 24
        extra_house[h, s, a:] = level * shape / shape.mean()
        truth.append(
            Truth(
                AnomalyType.HOUSE_IMBALANCE,
                services[s],
                a,
                n_hours,
                None,
                int(h),
                share,
                "leak" if leak else "unregistered consumer",
            )
        )

    # ОДПУ: all premises (true use) + common-house use 1–4 % + house faults.
    premises_total = np.zeros((houses, n_s, n_hours))
    np.add.at(premises_total, (house, svc), true)
    common = rng.uniform(0.01, 0.04, size=(houses, n_s))
    odpu_rows = np.flatnonzero(is_odpu)
    hs = premises_total[house[odpu_rows], svc[odpu_rows]]
    mean_level = hs.mean(axis=1, keepdims=True)
    house_use = hs + common[house[odpu_rows], svc[odpu_rows]][:, None] * mean_level
    house_use += extra_house[house[odpu_rows], svc[odpu_rows]]
    true[odpu_rows] = house_use
    measured[odpu_rows] = house_use

    capacity = 10.0 ** np.array(
        [HOUSE_DIGITS[n] if o else PREMISE_DIGITS[n] for n, o in zip(names, is_odpu, strict=True)]
    )
    digits = np.log10(capacity).round().astype(np.int64)
    daily_level = measured.sum(axis=1) / days
    r0 = rng.uniform(100 * daily_level, np.maximum(0.5 * capacity * 0.01, 200 * daily_level))
    r0[near] = capacity[near] - daily_level[near] * rng.uniform(3, max(4, days / 2), near.size)
    cum = np.zeros((m, n_hours + 1))
    np.cumsum(measured, axis=1, out=cum[:, 1:])
    raw = r0[:, None] + cum
    for meter in rollback_meters:
        col = int(rng.integers(24, n_hours - 24))
        drop = min(daily_level[meter] * rng.uniform(*f.rollback_days), 0.5 * raw[meter, col])
        offsets[meter, col:] -= drop
        truth.append(
            Truth(
                AnomalyType.ROLLBACK,
                names[meter],
                col - 1,
                col,
                int(meter),
                int(house[meter]),
                float(drop),
            )
        )
    for meter in replacement_meters:
        col = int(rng.integers(24, n_hours - 72))
        new_start = float(rng.uniform(0.0, 0.02)) * daily_level[meter]
        offsets[meter, col:] += new_start - raw[meter, col]
        truth.append(
            Truth(
                AnomalyType.REPLACEMENT,
                names[meter],
                col - 1,
                col,
                int(meter),
                int(house[meter]),
                float(raw[meter, col - 1]),
            )
        )
    res = np.array([RESOLUTION[n] for n in names])[:, None]
    register = np.floor(np.mod(raw + offsets, capacity[:, None]) / res) * res
    for meter, a, b in nan_cols:
        register[meter, a:b] = np.nan

    interval = None
    if interval_services:
        interval = np.full((m, n_hours), np.nan)
        rows = np.flatnonzero(~is_odpu & np.isin(np.array(names), interval_services))
        interval[rows] = np.round(measured[rows], 3)
        for meter, a, b in nan_cols:
            interval[meter, max(a - 1, 0) : b] = np.nan

    svc_global = np.array([SERVICES.index(n) for n in names], dtype=np.int64)
    meter_ids = tuple(
        f"h{int(h):03d}-{'odpu' if o else f'p{i:03d}'}-{n}"
        for h, o, i, n in zip(
            house, is_odpu, _premise_numbers(house, svc, is_odpu), names, strict=True
        )
    )
    fleet = Fleet(
        start=start,
        register=register,
        house=house,
        service=svc_global,
        is_house_meter=is_odpu,
        digits=digits,
        allows_export=np.zeros(m, dtype=bool),
        interval=interval,
        meter_ids=meter_ids,
        house_ids=tuple(f"h{h:03d}" for h in range(houses)),
    )
    truth.sort(
        key=lambda t: (
            t.kind.value,
            t.meter if t.meter is not None else -1,
            t.house or 0,
            t.start_hour,
        )
    )
    return History(fleet, tuple(truth), true, measured)


def _premise_consumption(
    rng: np.random.Generator, daily_mean: F64, days: int, start: datetime
) -> F64:
    """(M, 24·days) hourly use: local daily profile, weekend shift, day-to-day and hourly noise."""
    m = daily_mean.size
    local = start + timedelta(hours=3)  # Moscow, UTC+3 all year
    weekday = (local.weekday() + np.arange(days)) % 7
    weekend = weekday >= 5
    shape = np.where(weekend[:, None], _WEEKEND[None, :] * _WEEKEND_LEVEL, _PROFILE[None, :])
    day_factor = np.clip(rng.normal(1.0, 0.12, size=(m, days)), 0.3, None)
    hour_noise = rng.gamma(4.0, 0.25, size=(m, days, 24))
    use = daily_mean[:, None, None] * day_factor[:, :, None] * shape[None, :, :] * hour_noise
    return use.reshape(m, days * 24)


def _premise_numbers(
    house: npt.NDArray[np.int64], svc: npt.NDArray[np.int64], odpu: npt.NDArray[np.bool_]
) -> list[int]:
    """Premise number within its house (the same for every service of the premise)."""
    out, counter = [], 0
    for i in range(house.size):
        new_group = i == 0 or house[i] != house[i - 1] or svc[i] != svc[i - 1]
        counter = 1 if new_group else counter + 1
        out.append(0 if odpu[i] else counter)
    return out


def readings(history: History, *, source: str = "simulator") -> Iterator[Reading]:
    """The history's register values as :class:`Reading` s, meter by meter in time order
    (missing values are not sent). Meter ids are strings, the channel is the service."""
    fleet = history.fleet
    assert fleet.meter_ids is not None
    times = [fleet.start + timedelta(hours=t) for t in range(fleet.register.shape[1])]
    for i, meter in enumerate(fleet.meter_ids):
        channel = SERVICES[int(fleet.service[i])]
        row = fleet.register[i]
        for t in np.flatnonzero(np.isfinite(row)):
            yield Reading(
                meter=meter,
                channel=channel,
                ts=times[t],
                value=float(row[t]),
                kind=Kind.REGISTER,
                source=source,
            )


@dataclass(frozen=True, slots=True)
class Score:
    """Detections of one type against the injected faults of that type."""

    detected: int
    true_positives: int  # detections that match an injected fault
    injected: int
    found: int  # injected faults matched by some detection

    @property
    def precision(self) -> float:
        return self.true_positives / self.detected if self.detected else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.injected if self.injected else 1.0


def score(
    history: History, anomalies: list[Anomaly], *, slack_hours: int = 24
) -> dict[AnomalyType, Score]:
    """Precision and recall per anomaly type.

    A detection matches an injected fault of the same type on the same meter (meter faults)
    or the same house and service (house faults) when their time spans overlap, each widened
    by ``slack_hours`` (a daily detector reports whole days; a drop is seen at the next
    reading). Types with detections but nothing injected score precision 0.
    """
    start = history.fleet.start
    by_key: dict[tuple[AnomalyType, object], list[Truth]] = {}
    for t in history.truth:
        key = (t.kind, t.meter if t.meter is not None else (t.house, t.service))
        by_key.setdefault(key, []).append(t)
    matched: set[int] = set()
    detected: dict[AnomalyType, int] = {}
    tp: dict[AnomalyType, int] = {}
    for a in anomalies:
        detected[a.type] = detected.get(a.type, 0) + 1
        lo = (a.start - start) / timedelta(hours=1)
        hi = (a.end - start) / timedelta(hours=1)
        who: object = a.meter_index if a.meter_index is not None else (a.house_index, a.service)
        hits = [
            t
            for t in by_key.get((a.type, who), [])
            if lo < t.end_hour + slack_hours and t.start_hour < hi + slack_hours
        ]
        if hits:
            tp[a.type] = tp.get(a.type, 0) + 1
            matched.update(id(t) for t in hits)
    out = {}
    for kind in AnomalyType:
        injected = [t for t in history.truth if t.kind is kind]
        if not injected and not detected.get(kind):
            continue
        out[kind] = Score(
            detected.get(kind, 0),
            tp.get(kind, 0),
            len(injected),
            sum(id(t) in matched for t in injected),
        )
    return out
