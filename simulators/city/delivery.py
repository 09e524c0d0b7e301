"""What each path delivers in a replayed month, with its faults and the expected outcome of
every reading (``stored``, ``duplicate`` or ``quarantine:<reason>``) as ground truth.

- MQTT: house data concentrators publish the smart meters' daily registers (local 23:59) as
  JSON arrays; messages get lost, repeated, delayed, and carry garbage or skewed elements.
- Modbus: the house water meter (ОДПУ, cold and hot registers) is polled every few hours;
  a meter may be silent for days.
- ASKUE: one 80020 file per substation and day with the houses' electricity inputs
  (half-hour values); a file may never come, a value may be marked non-commercial.
- API: residents submit whole units of their manual meters once a month (15th–25th); some
  skip a month, some never submit, some submit in the next month's first days, some twice.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from simulators.city.consumption import HOURLY, HOURLY_CUM, Truth
from simulators.city.town import CW, EL, HW, Meter, Town, _pick, substation_of

UNIT = {CW: "m3", HW: "m3", EL: "kWh"}
CONCENTRATOR_BATCH = 50
READ_AT = time(23, 59)  # smart meters' daily snapshot: on the hour grid within 5 minutes
RESIDENT_AT = 19  # residents read their meters in the evening (19:37, off the hourly grid)
RESIDENT_TIME = time(RESIDENT_AT, 37)
SKEW = timedelta(days=3653)  # a meter whose clock is ten years ahead


def month_of(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_days(spec_first: date, month: int) -> range:
    """Day indices (from ``spec_first``) of a month index."""
    a = date(month // 12, month % 12 + 1, 1)
    b = date((month + 1) // 12, (month + 1) % 12 + 1, 1)
    return range((a - spec_first).days, (b - spec_first).days)


@dataclass
class Registers:
    """Each premise meter's true register at the end of every day (stuck ones frozen)."""

    index: dict[str, int]  # meter id -> row
    end_of_day: np.ndarray  # (meters, days)

    @staticmethod
    def build(town: Town, truth: Truth) -> Registers:
        meters = town.premise_meters()
        out = np.zeros((len(meters), truth.days))
        for i, m in enumerate(meters):
            cum = truth.register_start[f"{m.id}/{m.service}"] + np.cumsum(
                truth.own[m.premise, m.service]
            )
            if m.fault == "stuck":
                cum[m.fault_day :] = cum[m.fault_day - 1]
            out[i] = cum
        return Registers({m.id: i for i, m in enumerate(meters)}, out)

    def at(self, m: Meter, day: int) -> float:
        return float(self.end_of_day[self.index[m.id], day])


@dataclass
class PathPlan:
    """What a path delivers in one phase, and what should become of it."""

    path: str
    expect: Counter[str] = field(default_factory=Counter)  # per delivered reading
    lost: int = 0  # readings that never reached uchet (not delivered)
    notes: Counter[str] = field(default_factory=Counter)  # injected faults, by name

    @property
    def delivered(self) -> int:
        return sum(self.expect.values())


@dataclass
class MqttPlan(PathPlan):
    messages: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class ModbusPoll:
    at: datetime  # UTC
    values: dict[str, tuple[float, float]]  # house meter id -> (cold, hot) registers, m³
    silent: set[str]  # meters that do not answer


@dataclass
class ModbusPlan(PathPlan):
    polls: list[ModbusPoll] = field(default_factory=list)


@dataclass
class AskueDay:
    substation: int
    day: date
    points: dict[str, list[tuple[str, int]]]  # point -> 48 (value text, status) per half-hour


@dataclass
class AskuePlan(PathPlan):
    files: list[AskueDay] = field(default_factory=list)


@dataclass
class Submission:
    account: str
    meter: str
    value: float
    taken_at: datetime


@dataclass
class ApiPlan(PathPlan):
    submissions: list[Submission] = field(default_factory=list)


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz)


def _fmt(v: float) -> str:
    return f"{v:.3f}"


def mqtt_plan(town: Town, truth: Truth, regs: Registers, month: int) -> MqttPlan:
    spec = town.spec
    f = spec.faults
    tz = ZoneInfo(spec.timezone)
    rng = np.random.default_rng([spec.seed, 3, month])
    plan = MqttPlan("mqtt")
    by_house: dict[int, list[Meter]] = {}
    for m in town.premise_meters():
        if m.path == "mqtt":
            by_house.setdefault(m.house, []).append(m)
    late: list[tuple[str, bytes, list[str]]] = []
    for d in month_days(truth.first_day, month):
        day = truth.day(d)
        ts = _local(day, READ_AT, tz)
        ts_text, skew_text = ts.isoformat(), (ts + SKEW).isoformat()
        for h in sorted(by_house):
            alive = [m for m in by_house[h] if not (m.fault == "dead" and d >= m.fault_day)]
            for j in range(0, len(alive), CONCENTRATOR_BATCH):
                chunk = alive[j : j + CONCENTRATOR_BATCH]
                parts, expect = [], []
                rolls = rng.random(len(chunk))
                for m, roll in zip(chunk, rolls, strict=True):
                    value = _fmt(regs.at(m, d))
                    when = ts_text
                    if roll < f.mqtt_malformed:
                        value, outcome = '"n/a"', "quarantine:malformed"
                    elif roll < f.mqtt_malformed + f.mqtt_clock_skew:
                        when, outcome = skew_text, "quarantine:future_timestamp"
                    else:
                        outcome = "stored"
                    parts.append(
                        f'{{"meter":"{m.id}","channel":"{m.channel}","ts":"{when}",'
                        f'"value":{value},"unit":"{UNIT[m.service]}"}}'
                    )
                    expect.append(outcome)
                payload = ("[" + ",".join(parts) + "]").encode()
                topic = "meters/readings"  # mixed arrays of a house concentrator
                roll = rng.random()
                if roll < f.mqtt_lost:
                    plan.lost += len(expect)
                    plan.notes["lost_message"] += 1
                    continue
                roll -= f.mqtt_lost
                item = (topic, payload, expect)
                if roll < f.mqtt_late:
                    late.append(item)
                    plan.notes["late_message"] += 1
                else:
                    _add(plan, item)
                if rng.random() < f.mqtt_duplicate:
                    plan.notes["duplicate_message"] += 1
                    again = [e if e.startswith("quarantine:") else "duplicate" for e in expect]
                    _add(plan, (topic, payload, again))
    for item in late:
        _add(plan, item)
    return plan


def _add(plan: MqttPlan, item: tuple[str, bytes, list[str]]) -> None:
    plan.messages.append((item[0], item[1]))
    plan.expect.update(item[2])


def outage_days(town: Town, truth: Truth) -> dict[str, range]:
    """House water meters silent for a few days of the replay, by meter id."""
    spec = town.spec
    rng = np.random.default_rng([spec.seed, 4])
    first_replay = (spec.start - truth.first_day).days
    out = {}
    for h in _pick(rng, len(town.house_ids), spec.faults.modbus_outage):
        a = int(rng.integers(first_replay, truth.days - 7))
        out[town.modbus_meters[h]] = range(a, a + int(rng.integers(2, 7)))
    return out


def house_cumulative(town: Town, truth: Truth) -> np.ndarray:
    """(houses, 3, days + 1): each house meter's register at local midnight of every day."""
    total = truth.house_total(town)
    start = np.array(
        [[truth.register_start[f"{m}/{s}"] for s in (CW, HW)] for m in town.modbus_meters]
    )
    cum = np.zeros((len(town.house_ids), 3, truth.days + 1))
    cum[:, :, 1:] = np.cumsum(total, axis=2)
    cum[:, CW : HW + 1, :] += start[:, :, None]
    return cum


def modbus_plan(town: Town, truth: Truth, cum: np.ndarray, month: int) -> ModbusPlan:
    spec = town.spec
    tz = ZoneInfo(spec.timezone)
    total = truth.house_total(town)
    silent_days = outage_days(town, truth)
    plan = ModbusPlan("modbus")
    for d in month_days(truth.first_day, month):
        day = truth.day(d)
        for hour in range(0, 24, spec.modbus_every_h):
            at = _local(day, time(hour), tz).astimezone(UTC)
            values = {}
            silent = set()
            for h, meter in enumerate(town.modbus_meters):
                if d in silent_days.get(meter, ()):
                    silent.add(meter)
                    plan.notes["silent_poll"] += 1
                    continue
                share = HOURLY_CUM[hour]
                cold = cum[h, CW, d] + total[h, CW, d] * share
                hot = cum[h, HW, d] + total[h, HW, d] * share
                values[meter] = (round(float(cold), 4), round(float(hot), 4))
                plan.expect["stored"] += 2
            plan.polls.append(ModbusPoll(at, values, silent))
    return plan


def askue_plan(town: Town, truth: Truth, month: int) -> AskuePlan:
    spec = town.spec
    f = spec.faults
    rng = np.random.default_rng([spec.seed, 5, month])
    total = truth.house_total(town)
    plan = AskuePlan("askue")
    stations = sorted({substation_of(h) for h in range(len(town.house_ids))})
    halves = np.repeat(HOURLY / 2, 2)
    for d in month_days(truth.first_day, month):
        for st in stations:
            houses = [h for h in range(len(town.house_ids)) if substation_of(h) == st]
            if rng.random() < f.askue_lost_file:
                plan.lost += 48 * len(houses)
                plan.notes["lost_file"] += 1
                continue
            points = {}
            for h in houses:
                vals = total[h, EL, d] * halves
                status = rng.random(48) < f.askue_non_commercial
                plan.notes["non_commercial_value"] += int(status.sum())
                points[town.askue_points[h]] = [
                    (_fmt(float(v)), int(s)) for v, s in zip(vals, status, strict=True)
                ]
                plan.expect["stored"] += 48
            plan.files.append(AskueDay(st, truth.day(d), points))
    return plan


def api_plan(town: Town, truth: Truth, regs: Registers, month: int) -> ApiPlan:
    """The residents' submissions of ``month``: this month's in time, last month's late ones."""
    spec = town.spec
    plan = ApiPlan("api")
    for m_i in (month - 1, month):
        if m_i < spec.first_month:
            continue
        for sub, late in _resident_readings(town, truth, regs, m_i):
            if late != (m_i != month):
                continue
            plan.submissions.append(sub)
            plan.expect["stored"] += 1
            if late:
                plan.notes["late_submission"] += 1
    rng = np.random.default_rng([spec.seed, 7, month])
    repeats = [s for s in plan.submissions if rng.random() < spec.faults.api_repeat]
    plan.submissions.extend(repeats)
    plan.expect["duplicate"] += len(repeats)
    plan.notes["repeated_submission"] += len(repeats)
    return plan


def _resident_readings(
    town: Town, truth: Truth, regs: Registers, month: int
) -> list[tuple[Submission, bool]]:
    """(submission, late) for every manual meter a resident reads in ``month``."""
    spec = town.spec
    f = spec.faults
    tz = ZoneInfo(spec.timezone)
    rng = np.random.default_rng([spec.seed, 6, month])
    days = month_days(truth.first_day, month)
    out = []
    for m in town.premise_meters():
        if m.path != "api":
            continue
        roll, day_pick = rng.random(), int(rng.integers(14, 25))
        late_day = int(rng.integers(0, 5))
        if m.fault == "never" or roll < f.api_skip:
            continue
        late = roll < f.api_skip + f.api_late
        d = days[-1] + 1 + late_day if late else days[0] + day_pick
        if d >= truth.days:
            continue  # would be read after the replay ends
        before = regs.at(m, d - 1)
        now = before + truth.own[m.premise, m.service, d] * HOURLY_CUM[RESIDENT_AT]
        taken = _local(truth.day(d), RESIDENT_TIME, tz)
        out.append((Submission(town.accounts[m.premise], m.id, float(np.floor(now)), taken), late))
    return out


def history(
    town: Town, truth: Truth, regs: Registers
) -> list[tuple[str, str, str, datetime, float]]:
    """Month-end registers of the warm-up months (from the previous billing system):
    (source, meter, channel, ts, value). Residents' values in whole units, as they submit."""
    spec = town.spec
    tz = ZoneInfo(spec.timezone)
    cum = house_cumulative(town, truth)
    out = []
    for m_i in range(spec.first_month - spec.warmup_months, spec.first_month):
        last = month_days(truth.first_day, m_i)[-1]
        ts = _local(truth.day(last), READ_AT, tz).astimezone(UTC)
        # the house meters' last poll of the old system: 18:00, away from the new polls
        evening = _local(truth.day(last), time(18), tz).astimezone(UTC)
        total = truth.house_total(town)[:, :, last] * HOURLY_CUM[18]
        # residents' last readings in the old system: the 20th, as they usually submit
        day20 = month_days(truth.first_day, m_i)[19]
        ts20 = _local(truth.day(day20), RESIDENT_TIME, tz).astimezone(UTC)
        for m in town.premise_meters():
            if m.path == "api":
                v = (
                    regs.at(m, day20 - 1)
                    + truth.own[m.premise, m.service, day20] * HOURLY_CUM[RESIDENT_AT]
                )
                out.append(("api", m.id, m.channel, ts20, float(np.floor(v))))
                continue
            v = regs.at(m, last)
            out.append(
                (
                    m.path,
                    m.id,
                    m.channel,
                    ts,
                    float(np.floor(v)) if m.path == "api" else round(v, 3),
                )
            )
        for h, meter in enumerate(town.modbus_meters):
            for s in (CW, HW):
                value = round(float(cum[h, s, last] + total[h, s]), 4)
                out.append(("modbus", meter, "cold_water" if s == CW else "hot_water",
                            evening, value))  # fmt: skip
    return out
