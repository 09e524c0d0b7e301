"""True consumption of the town, generated before anything is delivered: per premise and
service per local day (daily, weekly and seasonal profiles, noise, leaks behind meters,
unregistered residents), and per house the common use, network leaks and unregistered
consumers that only the house meter (ОДПУ) sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from simulators.city.town import CW, EL, HW, Town, _pick

# per person per day; electricity also has a base per premise
PER_PERSON = {CW: 0.11, HW: 0.075, EL: 1.8}
BASE = {CW: 0.01, HW: 0.005, EL: 2.5}
SHOP = {CW: 0.25, HW: 0.05, EL: 25.0}
# common-house use per m² of common area per day (under the СОИ normatives of reference.py)
COMMON = {CW: 0.02 / 30, HW: 0.012 / 30, EL: 1.0 / 30}
# diurnal shape (local hours 0..23): night low, morning and evening peaks
HOURLY = np.array(
    [0.4, 0.3, 0.25, 0.25, 0.3, 0.5, 1.0, 1.6, 1.5, 1.1, 0.9, 0.9,
     1.0, 0.95, 0.9, 0.9, 1.0, 1.2, 1.5, 1.7, 1.6, 1.3, 0.9, 0.6]
)  # fmt: skip
HOURLY = HOURLY / HOURLY.sum()
HOURLY_CUM = np.concatenate(([0.0], np.cumsum(HOURLY)))  # share of the day before hour h


@dataclass
class Truth:
    """What really flowed, per local day from the warm-up start (``days`` of them)."""

    first_day: date
    days: int
    own: np.ndarray  # (premises, 3, days): consumption of each premise (with its leaks)
    premise_leak: np.ndarray  # (premises, days): the leak part of ``own`` cold water
    common: np.ndarray  # (houses, 3, days): common-area use (legitimate СОИ)
    network_leak: np.ndarray  # (houses, 3, days): leaks of the house network
    theft: np.ndarray  # (houses, 3, days): unregistered consumers on the house input
    register_start: dict[str, float]  # meter id + service -> register at the warm-up start
    _house: np.ndarray | None = None

    def house_total(self, town: Town) -> np.ndarray:
        """(houses, 3, days): what each house meter really measured."""
        if self._house is None:
            total = np.zeros((len(town.house_ids), 3, self.days))
            np.add.at(total, town.house, self.own)
            self._house = total + self.common + self.network_leak + self.theft
        return self._house

    def day(self, d: int) -> date:
        return self.first_day + timedelta(days=d)


def generate(town: Town) -> Truth:
    spec = town.spec
    rng = np.random.default_rng([spec.seed, 2])
    f = spec.faults
    first = spec.warmup_start
    days = (spec.end - first).days
    first_replay = (spec.start - first).days
    dates = [first + timedelta(days=d) for d in range(days)]
    doy = np.array([d.timetuple().tm_yday for d in dates], dtype=np.float64)
    weekend = np.array([d.weekday() >= 5 for d in dates])
    season = {
        CW: 1 + 0.08 * np.cos(2 * np.pi * (doy - 196) / 365),
        HW: 1 + 0.05 * np.cos(2 * np.pi * (doy - 15) / 365),
        EL: 1 + 0.25 * np.cos(2 * np.pi * (doy - 15) / 365),
    }
    week = np.where(weekend, 1.1, 1.0)
    p_n, h_n = town.n_premises, len(town.house_ids)
    own = np.zeros((p_n, 3, days))
    people = town.actual.astype(np.float64)
    for s in (CW, HW, EL):
        habit = rng.lognormal(0.0, 0.3, p_n)  # some flats use more than others
        level = np.where(town.residential, BASE[s] + PER_PERSON[s] * people * habit, SHOP[s])
        noise = rng.gamma(8.0, 1 / 8.0, (p_n, days))
        own[:, s, :] = level[:, None] * season[s][None, :] * week[None, :] * noise
    # leaks behind the cold water meter (a running toilet): days to weeks, then fixed
    premise_leak = np.zeros((p_n, days))
    for p in _pick(rng, p_n, f.premise_leak):
        a = int(rng.integers(first_replay, days - 3))
        b = min(days, a + int(rng.integers(10, 40)))
        premise_leak[p, a:b] = rng.uniform(0.5, 1.2)
    own[:, CW, :] += premise_leak
    area = town.common_area.astype(np.float64)
    common = np.zeros((h_n, 3, days))
    for s in (CW, HW, EL):
        common[:, s, :] = area[:, None] * COMMON[s] * rng.gamma(6.0, 1 / 6.0, (h_n, days))
    network_leak = np.zeros((h_n, 3, days))
    for h in _pick(rng, h_n, f.house_leak):
        a = int(rng.integers(first_replay, days - 10))
        network_leak[h, CW, a:] = rng.uniform(1.5, 5.0)
        network_leak[h, HW, a:] = rng.uniform(0.5, 2.0)
    theft = np.zeros((h_n, 3, days))
    for h in _pick(rng, h_n, f.house_theft):
        a = int(rng.integers(0, days - 10))
        theft[h, EL, a:] = rng.uniform(30.0, 90.0)
    register_start = {
        f"{m.id}/{m.service}": float(
            np.round(rng.uniform(10, 900 if m.service != EL else 30000), 3)
        )
        for m in town.meters
    }
    return Truth(first, days, own, premise_leak, common, network_leak, theft, register_start)


def monthly(daily: np.ndarray, first: date, months: list[int]) -> np.ndarray:
    """Sums the last axis (days from ``first``) into the given month indices (local months)."""
    out = np.zeros((*daily.shape[:-1], len(months)))
    day_month = np.array(
        [(first + timedelta(days=d)).year * 12 + (first + timedelta(days=d)).month - 1
         for d in range(daily.shape[-1])]
    )  # fmt: skip
    for i, m in enumerate(months):
        out[..., i] = daily[..., day_month == m].sum(axis=-1)
    return out
