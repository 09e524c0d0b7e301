"""Columnar batches of readings: the fast path from decoders through validation to the store.

A decoder appends well-formed canonical elements straight into columns (no object per
reading); any element the fast path cannot take is decoded by the exact slow path
(:func:`core.payload.decode_canonical`), which names what is wrong. Whatever an element
holds, decoding it never raises: the fast path hands anything unusual to the slow path, and
the slow path turns every failure into a rejected entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from core.channels import conversion_factor, normalize_channel
from core.errors import PayloadError
from core.payload import Decoded, Rejected, check_identifier, decode_canonical, parse_ts
from core.reading import Kind, Reading

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
NO_END: Final = -(2**63)


def to_us(ts: datetime) -> int:
    """Microseconds since the Unix epoch, exactly."""
    delta = ts - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(slots=True)
class Columns:
    """Readings as parallel lists; ``ts``/``end`` in epoch microseconds (``end``: NO_END)."""

    source: list[str] = field(default_factory=list)
    meter: list[str] = field(default_factory=list)
    channel: list[str] = field(default_factory=list)
    ts: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    flags: list[int] = field(default_factory=list)
    end: list[int] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.ts) + len(self.rejected)

    def append_reading(self, r: Reading) -> None:
        self.source.append(r.source)
        self.meter.append(r.meter)
        self.channel.append(r.channel)
        self.ts.append(to_us(r.ts))
        self.value.append(r.value)
        self.kind.append(int(r.kind))
        self.flags.append(r.flags)
        self.end.append(to_us(r.end) if r.end is not None else NO_END)

    def extend(self, items: Iterable[Decoded]) -> None:
        for item in items:
            if isinstance(item, Rejected):
                self.rejected.append(item)
            else:
                self.append_reading(item)

    def merge(self, other: Columns) -> None:
        self.source += other.source
        self.meter += other.meter
        self.channel += other.channel
        self.ts += other.ts
        self.value += other.value
        self.kind += other.kind
        self.flags += other.flags
        self.end += other.end
        self.rejected += other.rejected


class FastDecoder:
    """Canonical payload elements into Columns, with caches for channels, units and times.

    Fleets repeat the same channel/unit pairs and (hourly) timestamps across meters, so the
    caches turn most of the per-reading work into dictionary lookups.
    """

    def __init__(
        self, source: str = "mqtt", *, ts_cache_size: int = 200_000, meter_cache_size: int = 500_000
    ) -> None:
        self.source = source
        self._units: dict[tuple[str, object], tuple[str, float]] = {}
        self._times: dict[object, int] = {}
        self._meters: set[str] = set()  # meter ids known to be valid identifiers
        self._ts_cache_size = ts_cache_size
        self._meter_cache_size = meter_cache_size

    def _meter(self, meter: str) -> None:
        check_identifier(meter, "meter")
        if len(self._meters) >= self._meter_cache_size:
            self._meters.clear()
        self._meters.add(meter)

    def _unit(self, channel: str, unit: object) -> tuple[str, float]:
        if type(channel) is not str:
            raise TypeError
        key = (channel, unit)
        hit = self._units.get(key)
        if hit is None:
            canonical = normalize_channel(check_identifier(channel, "channel"))
            if unit is None:
                factor = 1.0
            elif isinstance(unit, str):
                factor = conversion_factor(unit, canonical)
            else:
                raise PayloadError("unknown_unit", f"unit {unit!r} is not a string")
            hit = self._units[key] = (canonical, factor)
        return hit

    def _time(self, raw: object) -> int:
        hit = self._times.get(raw)
        if hit is None:
            hit = to_us(parse_ts(raw))
            if len(self._times) >= self._ts_cache_size:
                self._times.clear()
            if not isinstance(raw, bool):
                self._times[raw] = hit
        return hit

    def decode(self, obj: object, *, topic_meter: str | None, out: Columns) -> None:
        elements = obj if isinstance(obj, list) else [obj]
        source = self.source
        units = self._units
        times = self._times
        valid_meters = self._meters
        meters, channels, tss, values = out.meter, out.channel, out.ts, out.value
        # The constant columns (source, kind, flags, end) of fast elements are filled in bulk;
        # ``pending`` fast elements still lack them, so flush before any slow-path append.
        pending = 0
        for element in elements:
            try:
                if type(element) is not dict:
                    raise TypeError
                meter = element.get("meter", topic_meter)
                value = element["value"]
                if (
                    type(meter) is not str
                    or not meter
                    or (topic_meter is not None and meter != topic_meter)
                    or type(value) not in (float, int)
                    or element.get("kind", "register") != "register"
                    or "flags" in element
                    or "end" in element
                    or value - value != 0  # NaN and ±inf, in one comparison
                ):
                    raise TypeError
                if meter not in valid_meters:
                    self._meter(meter)
                raw_channel = element["channel"]
                unit = element.get("unit")
                hit = units.get((raw_channel, unit)) if type(raw_channel) is str else None
                if hit is None:
                    hit = self._unit(raw_channel, unit)
                raw_ts = element["ts"]
                ts = times.get(raw_ts) if type(raw_ts) is str else None
                if ts is None:
                    ts = self._time(raw_ts)
                factor = hit[1]
                number = value * factor if factor != 1.0 else float(value)
                if number - number != 0:  # beyond a float after the unit's conversion
                    raise TypeError
            except Exception:  # the exact slow path names what is wrong
                if pending:
                    _fill(out, source, pending)
                    pending = 0
                for item in decode_canonical(element, topic_meter=topic_meter, source=source):
                    if isinstance(item, Rejected):
                        out.rejected.append(item)
                    else:
                        out.append_reading(item)
                continue
            meters.append(meter)
            channels.append(hit[0])
            tss.append(ts)
            values.append(number)
            pending += 1
        if pending:
            _fill(out, source, pending)


def _fill(out: Columns, source: str, count: int) -> None:
    """The constant columns of ``count`` fast-path (register, unflagged) elements."""
    out.source += [source] * count
    out.kind += [Kind.REGISTER] * count
    out.flags += [0] * count
    out.end += [NO_END] * count
