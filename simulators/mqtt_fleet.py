"""A simulated fleet of smart meters publishing cumulative readings over MQTT, from a seed.

Time-compressed: each meter publishes one reading per simulated interval, as fast as the
publisher goes (or at a set rate). Faults on demand, each with its expected outcome written to
a ground-truth file: duplicates, out-of-order delivery, malformed payloads, rollbacks,
rollovers, clock skew (timestamps in the future).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

SERVICES = {  # service -> (channel, unit, mean hourly consumption, register digits)
    "cold_water": ("cold_water", "m3", 0.012, 5),
    "hot_water": ("hot_water", "m3", 0.008, 5),
    "electricity": ("1-0:1.8.0", "kWh", 0.25, 6),
    "gas": ("gas", "m3", 0.05, 5),
    "heating": ("heating", "Gcal", 0.004, 4),
}
FAULTS = ("duplicate", "out_of_order", "malformed", "rollback", "rollover", "clock_skew")


@dataclass(frozen=True, slots=True)
class FleetSpec:
    meters: int = 100
    intervals: int = 24
    interval: timedelta = timedelta(hours=1)
    seed: int = 1
    faults: dict[str, float] = field(default_factory=dict)  # fault -> probability per reading
    topic_prefix: str = "meters"
    array_size: int = 1  # readings per message (1: canonical single objects)
    end: datetime | None = None  # last interval's time; default: now, rounded down


@dataclass(slots=True)
class Message:
    topic: str
    payload: bytes
    expect: list[str]  # one outcome per reading: stored | duplicate | quarantine:<reason>


@dataclass(slots=True)
class Fleet:
    spec: FleetSpec
    messages: list[Message]

    def outcomes(self) -> Counter[str]:
        return Counter(e for m in self.messages for e in m.expect)

    def write_truth(self, path: Path) -> None:
        with path.open("w", encoding="utf-8") as f:
            for m in self.messages:
                f.write(
                    json.dumps(
                        {"topic": m.topic, "payload": m.payload.decode(), "expect": m.expect},
                        ensure_ascii=False,
                    )
                    + "\n"
                )


def build_fleet(spec: FleetSpec) -> Fleet:
    rng = random.Random(spec.seed)
    end = spec.end or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - spec.interval * (spec.intervals - 1)
    p = {name: spec.faults.get(name, 0.0) for name in FAULTS}
    unknown = set(spec.faults) - set(FAULTS)
    if unknown:
        raise ValueError(f"unknown faults {sorted(unknown)}; known: {', '.join(FAULTS)}")
    # (delivery order, meter, reading, expected outcome)
    singles: list[tuple[datetime, str, dict[str, object], str]] = []
    for i in range(spec.meters):
        service = list(SERVICES)[i % len(SERVICES)]
        channel, unit, mean, digits = SERVICES[service]
        meter = f"sim-{spec.seed}-{i:06d}"
        capacity = 10**digits
        near_end = rng.random() < p["rollover"]
        value = capacity - mean * spec.intervals / 2 if near_end else rng.uniform(0, capacity / 10)
        for k in range(spec.intervals):
            ts = start + spec.interval * k
            value += rng.expovariate(1 / mean)
            shown = round(value % capacity, 3)
            doc: dict[str, object] = {
                "meter": meter,
                "channel": channel,
                "ts": ts.isoformat(),
                "value": shown,
                "unit": unit,
            }
            roll = rng.random()
            if roll < p["malformed"]:
                doc = {
                    "meter": meter,
                    "channel": channel,
                    "ts": ts.isoformat(),
                    "value": "n/a",
                    "unit": unit,
                }
                singles.append((ts, meter, doc, "quarantine:malformed"))
                continue
            roll -= p["malformed"]
            if roll < p["clock_skew"]:
                doc["ts"] = (datetime.now(UTC) + timedelta(days=1, hours=k)).isoformat()
                singles.append((ts, meter, doc, "quarantine:future_timestamp"))
                continue
            roll -= p["clock_skew"]
            if roll < p["rollback"] and k > 0 and shown > 1:
                doc["value"] = round(shown * 0.5, 3)
                singles.append((ts, meter, doc, "quarantine:register_rollback"))
                continue
            roll -= p["rollback"]
            if roll < p["out_of_order"] and k < spec.intervals - 2:
                singles.append((ts + spec.interval * 2.5, meter, doc, "stored"))  # delivered late
                continue
            singles.append((ts, meter, doc, "stored"))
            if rng.random() < p["duplicate"]:
                singles.append((ts + spec.interval / 2, meter, dict(doc), "duplicate"))
    # Interleave meters in delivery order, as a live fleet delivers them.
    singles.sort(key=lambda s: s[0])
    messages: list[Message] = []
    if spec.array_size <= 1:
        for _, meter, doc, expect in singles:
            messages.append(
                Message(f"{spec.topic_prefix}/{meter}/readings", json.dumps(doc).encode(), [expect])
            )
    else:
        for j in range(0, len(singles), spec.array_size):
            chunk = singles[j : j + spec.array_size]
            messages.append(
                Message(
                    f"{spec.topic_prefix}/readings",
                    json.dumps([d for _, _, d, _ in chunk]).encode(),
                    [e for _, _, _, e in chunk],
                )
            )
    return Fleet(spec, messages)
