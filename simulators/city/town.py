"""The town: houses (МКД), premises (помещения) with areas and residents, and their meters,
each meter on one delivery path (MQTT smart meter, resident through the API, Modbus house
meter, ASKUE substation point), all drawn from a seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from core.billing import month_index

CW, HW, EL = 0, 1, 2
SERVICES = ("cold_water", "hot_water", "electricity")
CHANNEL = {CW: "cold_water", HW: "hot_water", EL: "1-0:1.8.0"}
PATHS = ("mqtt", "modbus", "askue", "api")
HOUSES_PER_SUBSTATION = 10


@dataclass(frozen=True)
class FaultRates:
    """How often each fault is injected (per message, reading, meter, house or month)."""

    mqtt_lost: float = 0.003  # a concentrator message never arrives
    mqtt_duplicate: float = 0.005  # a message is delivered twice
    mqtt_malformed: float = 0.0005  # one element of a message is garbage
    mqtt_clock_skew: float = 0.0003  # one element carries a timestamp years ahead
    mqtt_late: float = 0.01  # a message arrives after the later days' messages
    meter_dead: float = 0.01  # a smart meter stops reporting on some day
    meter_stuck: float = 0.005  # a smart meter's register freezes on some day
    premise_leak: float = 0.01  # a leak behind the premise's cold water meter (or no meter)
    api_skip: float = 0.08  # a resident does not submit this month
    api_never: float = 0.03  # a resident never submits during the replay
    api_late: float = 0.07  # a resident submits in the first days of the next month
    api_repeat: float = 0.02  # a resident submits the same reading twice
    house_leak: float = 0.3  # a leak in the house network (cold and hot water), share of houses
    house_theft: float = 0.2  # unregistered electricity consumers, share of houses
    unregistered_residents: float = 0.3  # premises without meters that house more people
    modbus_outage: float = 0.3  # share of house meters with an outage of a few days
    askue_lost_file: float = 0.01  # a day's 80020 file never arrives
    askue_non_commercial: float = 0.001  # a value marked non-commercial (status 1)


@dataclass(frozen=True)
class CitySpec:
    houses: int = 3
    months: int = 3
    seed: int = 1
    start: date = date(2026, 1, 1)  # first day of the first replayed month
    premises_per_house: int = 100
    warmup_months: int = 6  # history before the replay: month-end readings, not billed
    modbus_every_h: int = 6
    faults: FaultRates = field(default_factory=FaultRates)
    timezone: str = "Europe/Moscow"

    def __post_init__(self) -> None:
        if self.houses < 1 or self.months < 1 or self.premises_per_house < 2:
            raise ValueError("need houses >= 1, months >= 1 and premises_per_house >= 2")
        if self.start.day != 1:
            raise ValueError(f"start {self.start} is not the first day of a month")
        if 24 % self.modbus_every_h:
            raise ValueError(f"modbus_every_h {self.modbus_every_h} does not divide 24")

    @property
    def first_month(self) -> int:
        return month_index(self.start.year, self.start.month)

    @property
    def warmup_start(self) -> date:
        m = self.first_month - self.warmup_months
        return date(m // 12, m % 12 + 1, 1)

    @property
    def end(self) -> date:
        """The day after the last replayed day."""
        m = self.first_month + self.months
        return date(m // 12, m % 12 + 1, 1)


@dataclass(frozen=True)
class Meter:
    id: str
    premise: int  # premise index, -1 for a house meter
    house: int
    service: int  # CW, HW, EL
    path: str  # mqtt | api | modbus | askue
    fault: str = ""  # dead | stuck | never (premise meters)
    fault_day: int = -1  # day index (from the warm-up start) the fault begins

    @property
    def channel(self) -> str:
        return CHANNEL[self.service]


@dataclass
class Town:
    spec: CitySpec
    house_ids: list[str]
    common_area: np.ndarray  # m², integers
    soi_distribute: np.ndarray  # bool: the owners decided to distribute the СОИ excess
    premise_ids: list[str]
    accounts: list[str]
    house: np.ndarray  # premise -> house index
    area_dm2: np.ndarray  # area in 0.01 m² (exact)
    residential: np.ndarray
    residents: np.ndarray  # registered (зарегистрированные)
    actual: np.ndarray  # people who actually live there
    owners: np.ndarray
    meter_possible: np.ndarray
    meters: list[Meter]
    askue_points: list[str]  # per house: the 80020 point code of its electricity input
    modbus_meters: list[str]  # per house: the id of its water ОДПУ (cold + hot registers)

    @property
    def n_premises(self) -> int:
        return len(self.premise_ids)

    def area_text(self, p: int) -> str:
        units = int(self.area_dm2[p])
        return f"{units // 100}.{units % 100:02d}"

    def premise_meters(self) -> list[Meter]:
        return [m for m in self.meters if m.premise >= 0]

    def has_meter(self) -> np.ndarray:
        """(premises, 3) bool: which premise has a meter of each service."""
        out = np.zeros((self.n_premises, 3), dtype=bool)
        for m in self.premise_meters():
            out[m.premise, m.service] = True
        return out


def _pick(rng: np.random.Generator, n: int, share: float) -> np.ndarray:
    """Exactly round(share × n) (at least one when share > 0) distinct indices, sorted."""
    k = min(n, max(1, math.ceil(share * n - 1e-9))) if share > 0 else 0
    return np.sort(rng.choice(n, size=k, replace=False)) if k else np.zeros(0, dtype=np.int64)


def build_town(spec: CitySpec) -> Town:
    """The town of ``spec``: the same seed gives the same town."""
    rng = np.random.default_rng([spec.seed, 1])
    f = spec.faults
    h_n = spec.houses
    house_ids = [f"h{h + 1:03d}" for h in range(h_n)]
    sizes = rng.integers(
        int(spec.premises_per_house * 0.7), int(spec.premises_per_house * 1.3) + 1, size=h_n
    )
    # keep the total at houses × premises_per_house, spreading the difference over the houses
    diff = spec.premises_per_house * h_n - int(sizes.sum())
    sizes += diff // h_n
    sizes[: diff % h_n] += 1
    premise_ids: list[str] = []
    house: list[int] = []
    residential: list[bool] = []
    for h in range(h_n):
        for n in range(int(sizes[h])):
            shop = n == 0  # a shop on the ground floor of every house
            premise_ids.append(f"{house_ids[h]}-{'shop' if shop else f'{n:03d}'}")
            house.append(h)
            residential.append(not shop)
    p_n = len(premise_ids)
    house_a = np.array(house, dtype=np.int64)
    res_a = np.array(residential, dtype=bool)
    area_dm2 = np.where(res_a, rng.integers(2800, 9600, p_n), rng.integers(6000, 20000, p_n))
    residents = np.where(res_a, rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 4, 5], p_n), 0)
    owners = rng.integers(1, 3, p_n)
    common_area = np.bincount(house_a, weights=area_dm2, minlength=h_n) // 100 // 6
    soi_distribute = rng.random(h_n) < 0.25
    # meters: electricity mostly smart, water pairs smart, manual or none
    el_roll = rng.random(p_n)
    w_roll = rng.random(p_n)
    el_path = np.where(el_roll < 0.8, 1, np.where(el_roll < 0.95, 2, 0))  # 1 mqtt 2 api 0 none
    w_path = np.where(w_roll < 0.3, 1, np.where(w_roll < 0.85, 2, 0))
    el_path[~res_a] = 1
    w_path[~res_a] = 1
    meter_possible = ~((w_path == 0) & (rng.random(p_n) < 0.33))
    actual = residents.copy()
    no_water = np.flatnonzero((w_path == 0) & res_a)
    extra = no_water[_pick(rng, no_water.size, f.unregistered_residents)]
    actual[extra] += rng.integers(1, 3, extra.size)
    # faults per premise meter, drawn in the replay months
    days_total = (spec.end - spec.warmup_start).days
    first_replay_day = (spec.start - spec.warmup_start).days
    meters: list[Meter] = []
    for p in range(p_n):
        pid = premise_ids[p]
        h = int(house_a[p])
        for service, path_code in ((CW, w_path[p]), (HW, w_path[p]), (EL, el_path[p])):
            if path_code == 0:
                continue
            path = "mqtt" if path_code == 1 else "api"
            fault, day = "", -1
            roll = rng.random()
            fday = int(rng.integers(first_replay_day, days_total - 5))
            if path == "mqtt":
                if roll < f.meter_dead:
                    fault, day = "dead", fday
                elif roll < f.meter_dead + f.meter_stuck:
                    fault, day = "stuck", fday
            elif roll < f.api_never:
                fault = "never"
            suffix = {CW: "cw", HW: "hw", EL: "el"}[service]
            meters.append(Meter(f"{pid}-{suffix}", p, h, service, path, fault, day))
    modbus_meters = [f"{hid}-odpu-w" for hid in house_ids]
    askue_points = [f"{77_0000_0000_0000 + h + 1:016d}" for h in range(h_n)]
    for h in range(h_n):
        meters.append(Meter(modbus_meters[h], -1, h, CW, "modbus"))
        meters.append(Meter(modbus_meters[h], -1, h, HW, "modbus"))
        meters.append(Meter(askue_points[h], -1, h, EL, "askue"))
    return Town(
        spec=spec,
        house_ids=house_ids,
        common_area=common_area.astype(np.int64),
        soi_distribute=soi_distribute,
        premise_ids=premise_ids,
        accounts=[f"{7_000_000_000 + spec.seed % 1000 * 1_000_000 + p:010d}" for p in range(p_n)],
        house=house_a,
        area_dm2=area_dm2.astype(np.int64),
        residential=res_a,
        residents=residents.astype(np.int64),
        actual=actual.astype(np.int64),
        owners=owners.astype(np.int64),
        meter_possible=meter_possible,
        meters=meters,
        askue_points=askue_points,
        modbus_meters=modbus_meters,
    )


def substation_of(house: int) -> int:
    return house // HOUSES_PER_SUBSTATION
