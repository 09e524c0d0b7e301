"""Decoding of reading payloads (parsed JSON) into :class:`Reading`s, canonical and mapped.

The canonical payload is ``spec/interfaces.md``'s: one object or an array of them with
``meter`` (optional when the topic names it), ``channel``, ``ts``, ``value``, ``unit``.
Vendor formats (Tasmota SML, Zigbee2MQTT, ...) are described by a :class:`Mapping` onto the
same fields. A bad element is rejected on its own; the good ones around it are kept.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from core.channels import conversion_factor, normalize_channel
from core.codes import Reason
from core.errors import PayloadError
from core.reading import Kind, Reading


@dataclass(frozen=True, slots=True)
class Rejected:
    """A payload element that could not become a reading, kept for the quarantine."""

    reason: str
    detail: str
    payload: bytes
    meter: str | None = None
    channel: str | None = None
    source: str = "mqtt"


Decoded = Reading | Rejected


def parse_ts(raw: object, *, default_tz: tzinfo = UTC) -> datetime:
    """ISO 8601 (no offset: ``default_tz``) or epoch seconds / milliseconds, to UTC."""
    if isinstance(raw, bool):
        raise PayloadError(Reason.MALFORMED, f"ts {raw!r} is not a timestamp")
    if isinstance(raw, int | float):
        seconds = raw / 1000 if raw > 1e11 else raw
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise PayloadError(Reason.MALFORMED, f"ts {raw!r} is out of range") from exc
    if isinstance(raw, str):
        try:
            ts = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise PayloadError(Reason.MALFORMED, f"ts {raw!r} is not ISO 8601") from exc
        if ts.tzinfo is None:
            ts = ts.replace(tzinfo=default_tz)
        return ts.astimezone(UTC)
    raise PayloadError(Reason.MALFORMED, f"ts {raw!r} is not a timestamp")


def parse_value(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise PayloadError(Reason.MALFORMED, f"value {raw!r} is not a number")
    try:
        value = float(raw)
    except ValueError as exc:
        raise PayloadError(Reason.MALFORMED, f"value {raw!r} is not a number") from exc
    if value != value or value in (float("inf"), float("-inf")):
        raise PayloadError(Reason.MALFORMED, f"value {raw!r} is not a finite number")
    return value


def make_reading(
    *,
    meter: str,
    channel: str,
    ts: object,
    value: object,
    unit: object,
    source: str,
    kind: Kind = Kind.REGISTER,
    default_tz: tzinfo = UTC,
    flags: int = 0,
) -> Reading:
    """Builds a reading from raw fields, converting the value to the channel's unit."""
    canonical = normalize_channel(channel)
    number = parse_value(value)
    if unit is not None:
        if not isinstance(unit, str):
            raise PayloadError(Reason.UNKNOWN_UNIT, f"unit {unit!r} is not a string")
        number *= conversion_factor(unit, canonical)
    return Reading(
        meter=meter,
        channel=canonical,
        ts=parse_ts(ts, default_tz=default_tz),
        value=number,
        kind=kind,
        source=source,
        flags=flags,
    )


def _dump(element: object) -> bytes:
    return json.dumps(element, ensure_ascii=False, default=str).encode()


def decode_canonical(
    obj: object, *, topic_meter: str | None, source: str = "mqtt"
) -> Iterator[Decoded]:
    """Readings from a canonical payload object or array; each bad element is Rejected."""
    elements = obj if isinstance(obj, list) else [obj]
    for element in elements:
        if not isinstance(element, dict):
            yield Rejected(
                Reason.MALFORMED, "element is not a JSON object", _dump(element), source=source
            )
            continue
        meter = element.get("meter", topic_meter)
        channel = element.get("channel")
        try:
            if not isinstance(meter, str) or not meter:
                raise PayloadError(Reason.MALFORMED, "no meter in the payload or the topic")
            if topic_meter is not None and meter != topic_meter:
                raise PayloadError(
                    Reason.METER_MISMATCH, f"payload meter {meter!r} != topic {topic_meter!r}"
                )
            if not isinstance(channel, str):
                raise PayloadError(Reason.MALFORMED, "channel missing or not a string")
            kind_raw = element.get("kind", "register")
            if kind_raw not in ("register", "interval"):
                raise PayloadError(Reason.MALFORMED, f"kind {kind_raw!r} is not register/interval")
            for field_name in ("ts", "value"):
                if field_name not in element:
                    raise PayloadError(Reason.MALFORMED, f"field {field_name!r} is missing")
            flags = element.get("flags", 0)
            if type(flags) is not int or flags < 0:
                raise PayloadError(Reason.MALFORMED, f"flags {flags!r} is not a bit set")
            reading = make_reading(
                meter=meter,
                channel=channel,
                ts=element["ts"],
                value=element["value"],
                unit=element.get("unit"),
                source=source,
                kind=Kind.INTERVAL if kind_raw == "interval" else Kind.REGISTER,
                flags=flags,
            )
            if "end" in element:
                reading = replace(reading, end=parse_ts(element["end"]))
            yield reading
        except PayloadError as exc:
            yield Rejected(
                exc.reason,
                exc.detail,
                _dump(element),
                meter if isinstance(meter, str) else None,
                channel if isinstance(channel, str) else None,
                source,
            )


class ValueMap(BaseModel):
    """One value of a vendor payload: where it is and what it measures."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    path: str = Field(description="dotted path in the JSON object, e.g. SML.Total_in")
    channel: str
    unit: str | None = None


class Mapping(BaseModel):
    """A vendor payload format mapped onto the canonical fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    topic: str = Field(description="MQTT topic filter, e.g. tele/+/SENSOR")
    meter_level: int = Field(description="index of the topic level that names the meter")
    meter_prefix: str = Field(default="", description="prepended to the meter id from the topic")
    ts: str | None = Field(default=None, description="path of the timestamp; none: receive time")
    ts_timezone: str = Field(default="UTC", description="zone of timestamps without an offset")
    values: Sequence[ValueMap]


BUILTIN_MAPPINGS: dict[str, Mapping] = {
    # Tasmota with SML script: tele/<device>/SENSOR, "Time" is local time without offset.
    "tasmota_sml": Mapping(
        name="tasmota_sml",
        topic="tele/+/SENSOR",
        meter_level=1,
        ts="Time",
        ts_timezone="Europe/Moscow",
        values=[
            ValueMap(path="SML.Total_in", channel="1-0:1.8.0", unit="kWh"),
            ValueMap(path="SML.Total_out", channel="1-0:2.8.0", unit="kWh"),
        ],
    ),
    # Zigbee2MQTT: zigbee2mqtt/<friendly name>, energy in kWh, last_seen when enabled.
    "zigbee2mqtt": Mapping(
        name="zigbee2mqtt",
        topic="zigbee2mqtt/+",
        meter_level=1,
        ts="last_seen",
        values=[ValueMap(path="energy", channel="1-0:1.8.0", unit="kWh")],
    ),
}


def _lookup(obj: Any, path: str) -> object:
    for part in path.split("."):
        if not isinstance(obj, dict) or part not in obj:
            return None
        obj = obj[part]
    return obj


def decode_mapped(
    obj: object, mapping: Mapping, *, topic: str, received: datetime, source: str = "mqtt"
) -> Iterator[Decoded]:
    """Readings from a vendor payload by its mapping; values absent from it are skipped."""
    levels = topic.split("/")
    meter = mapping.meter_prefix + levels[mapping.meter_level]
    if not isinstance(obj, dict):
        yield Rejected(
            Reason.MALFORMED, f"{mapping.name}: not an object", _dump(obj), source=source
        )
        return
    raw_ts = _lookup(obj, mapping.ts) if mapping.ts else None
    zone = ZoneInfo(mapping.ts_timezone)
    for vm in mapping.values:
        raw = _lookup(obj, vm.path)
        if raw is None:
            continue
        try:
            yield make_reading(
                meter=meter,
                channel=vm.channel,
                ts=raw_ts if raw_ts is not None else received.isoformat(),
                value=raw,
                unit=vm.unit,
                source=source,
                default_tz=zone,
            )
        except PayloadError as exc:
            yield Rejected(
                exc.reason,
                f"{mapping.name} {vm.path}: {exc.detail}",
                _dump(obj),
                meter,
                None,
                source,
            )
