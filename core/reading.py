"""The one value type every source produces: a normalised meter reading."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum

from core.codes import Reason
from core.errors import PayloadError


class Kind(IntEnum):
    """What the value means: a cumulative register index or the quantity of an interval."""

    REGISTER = 0
    INTERVAL = 1


@dataclass(frozen=True, slots=True)
class Reading:
    """A normalised reading.

    meter: the meter's id as its source names it (serial, topic id, 80020 point code).
    channel: canonical channel (:func:`core.channels.normalize_channel`).
    ts: aware datetime in UTC; for an interval reading, the start of the interval.
    value: in the channel's canonical unit.
    kind: register (cumulative index) or interval (quantity over ``[ts, end)``).
    source: which kind of source produced it (``mqtt``, ``modbus``, ``askue``, ``api``, ...).
    flags: :class:`core.codes.Flag` bits.
    end: interval end (interval readings only).
    """

    meter: str
    channel: str
    ts: datetime
    value: float
    kind: Kind = Kind.REGISTER
    source: str = "mqtt"
    flags: int = 0
    end: datetime | None = None

    def __post_init__(self) -> None:
        if not self.meter:
            raise PayloadError(Reason.MALFORMED, "empty meter id")
        if self.ts.tzinfo is None or self.ts.utcoffset() != UTC.utcoffset(None):
            raise PayloadError(Reason.MALFORMED, f"timestamp {self.ts!r} is not in UTC")
        if not math.isfinite(self.value):
            raise PayloadError(Reason.MALFORMED, f"value {self.value!r} is not a finite number")
