"""Streaming checks of ``domain/vee.md``: per reading, against the last accepted one.

Each check answers with a quarantine reason (reject) or quality flags (accept). The batch
pass over stored data (``core.vee``) is the authoritative one for billing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Final

from core.codes import Flag, Reason

LIVE_SOURCES: Final = frozenset({"mqtt", "modbus", "api"})
"""Sources whose readings must be recent; file imports of history accept any age."""

DEFAULT_MAX_RATE: Final[Mapping[str, float]] = MappingProxyType(
    {  # canonical unit per hour, generous: a flag, not a rejection
        "cold_water": 10.0,
        "hot_water": 10.0,
        "sewage": 20.0,
        "electricity": 100.0,
        "gas": 20.0,
        "heating": 5.0,
    }
)


@dataclass(frozen=True, slots=True)
class Limits:
    clock_tolerance: timedelta = timedelta(minutes=5)
    backfill: timedelta = timedelta(days=400)
    max_rate: Mapping[str, float] = field(default_factory=lambda: DEFAULT_MAX_RATE)


@dataclass(frozen=True, slots=True)
class Verdict:
    reason: Reason | None = None
    flags: int = 0
    detail: str = ""

    @property
    def accepted(self) -> bool:
        return self.reason is None


ACCEPT: Final = Verdict()


def check_time(ts: datetime, source: str, *, now: datetime, limits: Limits) -> Verdict:
    """Rejects readings from the future and, for live sources, older than the back-fill window."""
    if ts > now + limits.clock_tolerance:
        return Verdict(Reason.FUTURE_TIMESTAMP, detail=f"ts {ts.isoformat()} is after now")
    if source in LIVE_SOURCES and ts < now - limits.backfill:
        return Verdict(
            Reason.TOO_OLD, detail=f"ts {ts.isoformat()} is older than {limits.backfill.days} days"
        )
    return ACCEPT


def register_capacity(previous: float, capacity_digits: int | None) -> float:
    """The register's capacity: 10^digits, inferred from the previous value when unknown."""
    if capacity_digits:
        return float(10**capacity_digits)
    return float(10 ** len(str(int(previous)))) if previous >= 1 else 10.0


def check_register(
    value: float,
    ts: datetime,
    previous: tuple[datetime, float] | None,
    *,
    capacity_digits: int | None = None,
    max_rate: float | None = None,
) -> Verdict:
    """Checks a cumulative register value against the previous accepted one.

    Lower than the previous is a rollover when the previous was near the register's capacity
    (≥ 90 %) and the new value near zero (≤ 10 %); otherwise a rollback. A consumption rate
    above ``max_rate`` (per hour) is accepted with a flag.
    """
    if value < 0:
        return Verdict(Reason.NEGATIVE_VALUE, detail=f"value {value} < 0")
    if previous is None:
        return ACCEPT
    prev_ts, prev_value = previous
    flags = 0
    if value >= prev_value:
        consumption = value - prev_value
    else:
        capacity = register_capacity(prev_value, capacity_digits)
        if prev_value >= 0.9 * capacity and value <= 0.1 * capacity:
            consumption = capacity - prev_value + value
            flags |= Flag.ROLLOVER
        else:
            return Verdict(
                Reason.REGISTER_ROLLBACK,
                detail=f"value {value} < previous {prev_value} at {prev_ts.isoformat()}",
            )
    hours = (ts - prev_ts).total_seconds() / 3600
    if max_rate is not None and hours > 0 and consumption / hours > max_rate:
        flags |= Flag.IMPLAUSIBLE_RATE
    return Verdict(flags=flags)


def check_backfill(
    value: float,
    ts: datetime,
    before: tuple[datetime, float] | None,
    after: float | None,
    *,
    capacity_digits: int | None = None,
    max_rate: float | None = None,
) -> Verdict:
    """An out-of-order reading is checked against its stored neighbours, not the last value."""
    verdict = check_register(value, ts, before, capacity_digits=capacity_digits, max_rate=max_rate)
    if not verdict.accepted:
        return verdict
    if after is not None and value > after:
        capacity = register_capacity(value, capacity_digits)
        if not (value >= 0.9 * capacity and after <= 0.1 * capacity):
            return Verdict(
                Reason.REGISTER_ROLLBACK, detail=f"value {value} > the next stored {after}"
            )
    return Verdict(flags=verdict.flags | Flag.OUT_OF_ORDER)
