"""Decoding of reading payloads (parsed JSON) into :class:`Reading`s, canonical and mapped.

The canonical payload is ``spec/interfaces.md``'s: one object or an array of them with
``meter`` (optional when the topic names it), ``channel``, ``ts``, ``value``, ``unit``.
Vendor formats (Tasmota SML, Zigbee2MQTT, ...) are described by a :class:`Mapping` onto the
same fields. A bad element is rejected on its own; the good ones around it are kept.

What cannot be represented is rejected with a reason, never raised past the decoder: a time
with no UTC instant (``9999-12-31T23:59:59-01:00``) is ``timestamp_out_of_range``; a meter id
or channel the store could not hold or index (a control character such as NUL, more than
:data:`core.validation.MAX_IDENTIFIER` characters) is ``invalid_identifier``; a value that is
not a finite number, before or after its unit's conversion, is ``malformed``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.channels import conversion_factor, normalize_channel
from core.codes import Reason
from core.errors import PayloadError
from core.reading import Kind, Reading
from core.validation import MAX_IDENTIFIER

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""C0 and C1 control characters, DEL and the Unicode line separators: never in an id."""


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
            raise PayloadError(
                Reason.TIMESTAMP_OUT_OF_RANGE, f"ts {show(raw)} is out of range"
            ) from exc
    if isinstance(raw, str):
        try:
            ts = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise PayloadError(Reason.MALFORMED, f"ts {show(raw)} is not ISO 8601") from exc
        try:
            if ts.tzinfo is None:
                ts = ts.replace(tzinfo=default_tz)
            return ts.astimezone(UTC)
        except (OverflowError, ValueError) as exc:  # year 1 or 9999 pushed past by the offset
            raise PayloadError(
                Reason.TIMESTAMP_OUT_OF_RANGE, f"ts {show(raw)} has no UTC instant (year 1..9999)"
            ) from exc
    raise PayloadError(Reason.MALFORMED, f"ts {show(raw)} is not a timestamp")


def show(raw: object, limit: int = 60) -> str:
    """``repr`` for a message, cut to ``limit`` characters (control characters escaped)."""
    text = repr(raw)
    return text if len(text) <= limit else f"{text[: limit - 5]}...{text[-2:]} ({len(text)} chars)"


def check_identifier(text: str, what: str) -> str:
    """``text`` if it can be a meter id or channel; else PayloadError(invalid_identifier)."""
    if len(text) > MAX_IDENTIFIER:
        raise PayloadError(
            Reason.INVALID_IDENTIFIER,
            f"{what} is {len(text)} characters long (at most {MAX_IDENTIFIER}): {show(text)}",
        )
    bad = _CONTROL.search(text)
    if bad is not None:
        raise PayloadError(
            Reason.INVALID_IDENTIFIER,
            f"{what} {show(text)} contains the control character U+{ord(bad.group()):04X}",
        )
    return text


def valid_identifier(text: object) -> str | None:
    """``text`` if it is a usable identifier (to name a rejected element by), else None."""
    if not isinstance(text, str) or not text:
        return None
    if len(text) > MAX_IDENTIFIER or _CONTROL.search(text):
        return None
    return text


def parse_value(raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise PayloadError(Reason.MALFORMED, f"value {show(raw)} is not a number")
    try:
        value = float(raw)
    except (ValueError, OverflowError) as exc:
        raise PayloadError(Reason.MALFORMED, f"value {show(raw)} is not a number") from exc
    if value - value != 0:  # NaN and ±inf
        raise PayloadError(Reason.MALFORMED, f"value {show(raw)} is not a finite number")
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
    check_identifier(meter, "meter")
    canonical = normalize_channel(check_identifier(channel, "channel"))
    number = parse_value(value)
    if unit is not None:
        if not isinstance(unit, str):
            raise PayloadError(Reason.UNKNOWN_UNIT, f"unit {show(unit)} is not a string")
        number *= conversion_factor(unit, canonical)
        if number - number != 0:
            raise PayloadError(
                Reason.MALFORMED, f"value {show(value)} {show(unit)} is beyond a float"
            )
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
    """The element as JSON for the quarantine (escaped where UTF-8 cannot carry it)."""
    try:
        return json.dumps(element, ensure_ascii=False, default=str).encode()
    except UnicodeEncodeError:  # a lone surrogate: keep it as its JSON escape
        return json.dumps(element, default=str).encode()


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
        try:
            yield _canonical_element(element, topic_meter, source)
        except PayloadError as exc:
            yield _rejected(element, exc.reason, exc.detail, source)
        except Exception as exc:  # whatever it is, it must not stop intake
            detail = f"cannot decode: {type(exc).__name__}: {show(str(exc), 200)}"
            yield _rejected(element, Reason.MALFORMED, detail, source)


def _canonical_element(element: dict[str, Any], topic_meter: str | None, source: str) -> Reading:
    meter = element.get("meter", topic_meter)
    channel = element.get("channel")
    if not isinstance(meter, str) or not meter:
        raise PayloadError(Reason.MALFORMED, "no meter in the payload or the topic")
    check_identifier(meter, "meter")
    if topic_meter is not None and meter != topic_meter:
        raise PayloadError(
            Reason.METER_MISMATCH, f"payload meter {meter!r} != topic {show(topic_meter)}"
        )
    if not isinstance(channel, str):
        raise PayloadError(Reason.MALFORMED, "channel missing or not a string")
    kind_raw = element.get("kind", "register")
    if kind_raw not in ("register", "interval"):
        raise PayloadError(Reason.MALFORMED, f"kind {show(kind_raw)} is not register/interval")
    for field_name in ("ts", "value"):
        if field_name not in element:
            raise PayloadError(Reason.MALFORMED, f"field {field_name!r} is missing")
    flags = element.get("flags", 0)
    if type(flags) is not int or flags < 0 or flags >= 2**31:
        raise PayloadError(Reason.MALFORMED, f"flags {show(flags)} is not a bit set")
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
        try:
            end = parse_ts(element["end"])
        except PayloadError as exc:
            raise PayloadError(exc.reason, f"end: {exc.detail}") from exc
        reading = replace(reading, end=end)
    return reading


def _rejected(element: dict[str, Any], reason: str, detail: str, source: str) -> Rejected:
    """A rejected element, named by its meter and channel where those are usable."""
    return Rejected(
        reason,
        detail,
        _dump(element),
        valid_identifier(element.get("meter")),
        valid_identifier(element.get("channel")),
        source,
    )


_VAR = re.compile(r"^\{([A-Za-z_][A-Za-z0-9_]*)\}$")


class ValueMap(BaseModel):
    """One value of a vendor payload: where it is, what it measures, and when it applies."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    path: str = Field(
        description="dotted path in the JSON object (SML.Total_in; * is any key, the first"
        " that has the rest); empty: the whole payload is the value (a plain number)"
    )
    channel: str
    unit: str | None = None
    when_topic: dict[str, str] = Field(
        default_factory=dict, description="only when these topic variables have these values"
    )
    when: dict[str, str] = Field(
        default_factory=dict, description="only when these payload paths hold these values"
    )


class Mapping(BaseModel):
    """A vendor payload format mapped onto the canonical fields.

    ``topic`` is an MQTT filter whose levels may be named: ``shellies/{meter}/emeter/{ch}/total``
    subscribes to ``shellies/+/emeter/+/total`` and names levels 1 and 3. The meter id is
    ``meter`` (a template over the named levels, default ``{meter}``), or the payload's
    ``meter_path``, or topic level ``meter_level``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    topic: str = Field(description="MQTT topic filter, e.g. tele/{meter}/SENSOR or tele/+/SENSOR")
    pattern: tuple[str, ...] = Field(
        default=(), description="the topic's levels as written (set from topic)"
    )
    meter: str | None = Field(default=None, description="meter id template, e.g. {node}-{name}")
    meter_level: int | None = Field(default=None, description="topic level that names the meter")
    meter_path: str | None = Field(default=None, description="payload path of the meter id")
    meter_prefix: str = Field(default="", description="prepended to the meter id")
    ts: str | None = Field(default=None, description="path of the timestamp; none: receive time")
    ts_timezone: str | None = Field(
        default=None, description="zone of device times without an offset; unset: UCHET_TIMEZONE"
    )
    values: Sequence[ValueMap]

    @model_validator(mode="before")
    @classmethod
    def _named_levels(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("topic"), str) and "pattern" not in data:
            levels = data["topic"].split("/")
            data = {**data, "topic": "/".join("+" if _VAR.match(lv) else lv for lv in levels)}
            data["pattern"] = tuple(levels)
        return data

    @model_validator(mode="after")
    def _check(self) -> Mapping:
        names = {m.group(1) for m in map(_VAR.match, self.pattern) if m}
        where = [self.meter is not None, self.meter_level is not None, self.meter_path is not None]
        if sum(where) > 1:
            raise ValueError("give only one of meter, meter_level, meter_path")
        if not any(where) and "meter" not in names:
            raise ValueError("no meter: name a topic level {meter}, or give meter/meter_path")
        used = set(re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", self.meter or ""))
        for vm in self.values:
            used |= set(vm.when_topic)
        if used - names:
            raise ValueError(f"topic {self.topic!r} names no level {sorted(used - names)}")
        if self.meter_level is not None and not 0 <= self.meter_level < len(self.pattern):
            raise ValueError(f"meter_level {self.meter_level} is not a level of {self.topic!r}")
        if self.ts_timezone is not None:
            try:
                ZoneInfo(self.ts_timezone)
            except (ValueError, KeyError) as exc:
                raise ValueError(f"ts_timezone {self.ts_timezone!r} is not a time zone") from exc
        if not self.values:
            raise ValueError("values is empty")
        return self

    def topic_vars(self, topic: str) -> dict[str, str] | None:
        """The named levels of ``topic``, or None if it does not fit the pattern."""
        levels = topic.split("/")
        found: dict[str, str] = {}
        for i, want in enumerate(self.pattern):
            if want == "#":
                return found
            if i >= len(levels):
                return None
            m = _VAR.match(want)
            if m:
                found[m.group(1)] = levels[i]
            elif want not in ("+", levels[i]):
                return None
        return found if len(levels) == len(self.pattern) else None


def _lookup(obj: Any, path: str) -> object:
    """The value at a dotted ``path`` (``*``: the first key holding the rest), else None."""
    if path == "":
        return obj
    head, _, rest = path.partition(".")
    if not isinstance(obj, dict):
        return None
    if head == "*":
        for key in obj:
            found = _lookup(obj[key], rest) if rest else obj[key]
            if found is not None:
                return found
        return None
    if head not in obj:
        return None
    return _lookup(obj[head], rest) if rest else obj[head]


def mapped_meter(obj: object, mapping: Mapping, variables: dict[str, str], topic: str) -> str:
    """The meter id a mapped message names, or PayloadError(malformed)."""
    if mapping.meter_path is not None:
        raw = _lookup(obj, mapping.meter_path)
        if isinstance(raw, int) and not isinstance(raw, bool):
            raw = str(raw)
        if not isinstance(raw, str) or not raw:
            raise PayloadError(Reason.MALFORMED, f"no meter id at {mapping.meter_path!r}")
        meter = raw
    elif mapping.meter_level is not None:
        meter = topic.split("/")[mapping.meter_level]
    else:
        meter = (mapping.meter or "{meter}").format(**variables)
    return check_identifier(mapping.meter_prefix + meter, "meter")


def decode_mapped(
    obj: object,
    mapping: Mapping,
    *,
    topic: str,
    received: datetime,
    source: str = "mqtt",
    raw: bytes | None = None,
) -> Iterator[Decoded]:
    """Readings from a vendor payload by its mapping; values absent from it are skipped.

    A message with no value the mapping knows yields nothing: the caller accounts for it
    (``no_reading``). ``raw``: the payload as received, kept by a rejection.
    """
    payload = raw if raw is not None else _dump(obj)
    variables = mapping.topic_vars(topic)
    if variables is None:
        variables = {}
    try:
        meter = mapped_meter(obj, mapping, variables, topic)
    except PayloadError as exc:
        yield Rejected(exc.reason, f"{mapping.name}: {exc.detail}", payload, source=source)
        return
    wanted = [
        vm
        for vm in mapping.values
        if all(variables.get(k) == v for k, v in vm.when_topic.items())
        and all(_lookup(obj, k) == v for k, v in vm.when.items())
    ]
    if not isinstance(obj, dict) and any(vm.path for vm in wanted):
        yield Rejected(
            Reason.MALFORMED, f"{mapping.name}: not an object", payload, meter, source=source
        )
        return
    raw_ts = _lookup(obj, mapping.ts) if mapping.ts else None
    zone = ZoneInfo(mapping.ts_timezone) if mapping.ts_timezone else UTC
    for vm in wanted:
        value = _lookup(obj, vm.path)
        if value is None:
            continue
        try:
            yield make_reading(
                meter=meter,
                channel=vm.channel,
                ts=raw_ts if raw_ts is not None else received.isoformat(),
                value=value,
                unit=vm.unit,
                source=source,
                default_tz=zone,
            )
        except PayloadError as exc:
            yield Rejected(
                exc.reason,
                f"{mapping.name} {vm.path or 'payload'}: {exc.detail}",
                payload,
                valid_identifier(meter),
                None,
                source,
            )
        except Exception as exc:  # whatever it is, it must not stop intake
            yield Rejected(
                Reason.MALFORMED,
                f"{mapping.name} {vm.path or 'payload'}: cannot decode: {type(exc).__name__}",
                payload,
                valid_identifier(meter),
                None,
                source,
            )
