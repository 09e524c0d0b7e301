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

import numpy as np

from core.codes import Flag, Reason

MAX_IDENTIFIER: Final = 200
"""Longest meter id or channel kept (longer ones are quarantined as ``invalid_identifier``)."""
DEFAULT_VALUE_CEILING: Final = 1e10
"""No meter register or interval value above this is plausible (10^10 kWh / m³ / Gcal)."""

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
    value_ceiling: float = DEFAULT_VALUE_CEILING
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


def register_capacity(previous: float, capacity_digits: int | None) -> float:
    """The register's capacity: 10^digits, inferred from the previous value when unknown."""
    if capacity_digits:
        return float(10**capacity_digits)
    return float(10 ** len(str(int(previous)))) if previous >= 1 else 10.0


def identifier_problem(text: str) -> str | None:
    """Why a meter id or channel cannot be stored (None: it can)."""
    if not text:
        return "is empty"
    if len(text) > MAX_IDENTIFIER:
        return f"is {len(text)} characters long (at most {MAX_IDENTIFIER})"
    if not text.isprintable():
        bad = next(c for c in text if not c.isprintable())
        return f"holds the control character U+{ord(bad):04X}"
    return None


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


@dataclass(frozen=True, slots=True)
class RegisterChecks:
    """Outcome of :func:`check_registers` per element (arrays aligned with the input)."""

    status: np.ndarray  # STATUS_* codes
    flags: np.ndarray  # Flag bits to add to accepted elements


STATUS_ACCEPT: Final = 0
STATUS_ROLLBACK: Final = 1
STATUS_BACKFILL: Final = 2  # older than the last stored value: check against neighbours
STATUS_SAME_KEY: Final = 3  # same timestamp as the previous value: the store decides


def inferred_capacity(previous: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Vector form of :func:`register_capacity` (capacity <= 0: infer from the previous)."""
    digits = np.floor(np.log10(np.maximum(previous, 1.0))) + 1
    return np.where(capacity > 0, capacity, np.power(10.0, digits))


def check_registers(
    meter: np.ndarray,
    ts: np.ndarray,
    value: np.ndarray,
    *,
    last_ts: np.ndarray,
    last_value: np.ndarray,
    capacity: np.ndarray,
    max_rate: np.ndarray,
) -> RegisterChecks:
    """:func:`check_register` for a whole batch sorted by (meter, ts), vectorized.

    ``last_ts``/``last_value``: per element, the meter's last stored register reading
    (``last_ts`` = INT64 min when none); ``capacity``: 10^digits or 0 to infer; ``max_rate``:
    per hour, inf for none. Elements after a rollback of the same meter are compared with the
    rolled-back value here; the caller re-checks such meters one by one (:func:`check_register`
    chains on the last *accepted* value), which is rare and exact.
    """
    n = len(ts)
    backfill = ts < last_ts
    head = np.ones(n, dtype=bool)
    if n > 1:
        head[1:] = (meter[1:] != meter[:-1]) | backfill[:-1]
    prev_ts = np.empty(n, dtype=np.int64)
    prev_value = np.empty(n, dtype=np.float64)
    if n:
        prev_ts[1:] = ts[:-1]
        prev_value[1:] = value[:-1]
    prev_ts[head] = last_ts[head]
    prev_value[head] = last_value[head]
    has_prev = prev_ts != np.iinfo(np.int64).min
    same = has_prev & (ts == prev_ts) & ~backfill
    check = has_prev & ~same & ~backfill
    drop = value - prev_value
    negative = check & (drop < 0)
    cap = inferred_capacity(prev_value, capacity)
    rollover = negative & (prev_value >= 0.9 * cap) & (value <= 0.1 * cap)
    rollback = negative & ~rollover
    consumption = np.where(rollover, cap - prev_value + value, drop)
    with np.errstate(divide="ignore", invalid="ignore"):
        hours = (ts - prev_ts) / 3.6e9
        implausible = check & ~rollback & (hours > 0) & (consumption / hours > max_rate)
    status = np.zeros(n, dtype=np.int8)
    status[backfill] = STATUS_BACKFILL
    status[same] = STATUS_SAME_KEY
    status[rollback] = STATUS_ROLLBACK
    flags = np.where(rollover, int(Flag.ROLLOVER), 0) | np.where(
        implausible, int(Flag.IMPLAUSIBLE_RATE), 0
    )
    return RegisterChecks(status=status, flags=flags.astype(np.int32))
