"""expat event handlers that build one 80020 message: the parser's hot path.

Speed comes from keeping Python out of most expat callbacks: text and element ends go to
plain lists (C ``list.append``), and the Python start handler settles them when the next
element starts. The common case, a period closed right after its value, is settled inline;
anything else replays the ends one by one through the general code (``_end``). Values are
collected as text and converted per channel at the end, in bulk (``map(Decimal, ...)``),
falling back to a checked value-by-value conversion when anything in the channel is unusual.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from xml.parsers import expat
from zoneinfo import ZoneInfo

from adapters.askue.channels import resolve
from adapters.askue.errors import (
    AskueError,
    FormatError,
    InvalidIdentifierError,
    TimeOutOfRangeError,
    UnknownChannelError,
    ValueTooLargeError,
)
from adapters.askue.model import (
    POINT_KINDS_WITH_CHANNELS,
    Area,
    Header,
    ParsedFile,
    Period,
    Point,
    Series,
)
from adapters.askue.timemap import (
    PeriodTimeError,
    local_timestamp,
    parse_day,
    resolve_period,
)
from adapters.askue.timemap import (
    TimeOutOfRangeError as _TimeRange,
)
from adapters.askue.zones import area_zone
from core.codes import Flag

CHANNEL_CODES = ("01", "02", "03", "04")
MESSAGE_CLASSES = ("80020", "80030", "80040")
"""The 80020 family: the same structure (80030 and 80040 are sent for other point kinds)."""
MAX_DEPTH = 16  # message/area/point/channel is 4 deep (period and value are not counted)
DEFAULT_MAX_VALUE = Decimal("1e12")
"""The largest magnitude of a value read: what the API accepts, and well within what billing
computes exactly (micro-units in 64-bit integers). No meter's half hour comes near it."""
MAX_CODE_CHARS = 200
"""The longest point code read: the store keys readings by it (PostgreSQL refuses an index row
over ~2,700 bytes); real codes are 18-digit numbers."""
SHOWN_CHARS = 40  # of a bad value's text, in its error

_VALUE_PERIOD = ["value", "period"]
_COMMERCIAL = ["status", "0"]
_NON_COMMERCIAL = ["status", "1"]
_NC = int(Flag.NON_COMMERCIAL)
_START_UTC = attrgetter("start_utc")
_MEASUREMENT_ERROR = int(Flag.MEASUREMENT_ERROR)
_TEXT_ELEMENTS = frozenset({"inn", "name", "day", "timestamp", "daylightsavingtime"})
_PeriodKey = tuple[str, ...]  # the period's ordered attribute list


# A collected value's attributes: 0 for none or status="0", 1 for status="1", else the
# attribute list. Ints in the common case: lists would be tracked by the garbage collector.
_Attrs = int | list[str]
_Columns = tuple[list[Period], list[Decimal | None], list[int]]


class _AreaB:
    __slots__ = ("inn", "name", "timezone")

    def __init__(self, timezone: str | None) -> None:
        self.inn: str | None = None
        self.name: str | None = None
        self.timezone = timezone


class _PointB:
    __slots__ = ("area", "code", "kind", "name")

    def __init__(self, kind: str, code: str, name: str | None, area: _AreaB | None) -> None:
        self.kind, self.code, self.name, self.area = kind, code, name, area


class _SeriesB:
    __slots__ = ("channel", "code", "desc", "how", "periods", "point", "texts", "value_attrs")

    def __init__(
        self,
        point: _PointB,
        channel: str | None,
        code: str | None = None,
        desc: str | None = None,
        how: str = "code",
    ) -> None:
        self.point, self.channel = point, channel
        self.code = code if code is not None else channel  # as written (zero-filled)
        self.desc = desc
        self.how = how  # how the channel was read (or, channel None: why it was not)
        self.periods: list[_PeriodKey] = []  # each value's period attributes
        self.texts: list[str] = []
        self.value_attrs: list[_Attrs] = []


def _attr_dict(attrs: list[str] | tuple[str, ...]) -> dict[str, str]:
    return dict(zip(attrs[::2], attrs[1::2], strict=True))


class Message:
    """Handlers for one file; feed them with :func:`adapters.askue.reader.feed`, then
    ``finish()``. ``fast=False`` settles every end through the general code (for tests)."""

    def __init__(
        self,
        file: str,
        zone: ZoneInfo,
        max_errors: int,
        *,
        fast: bool = True,
        max_value: Decimal = DEFAULT_MAX_VALUE,
        channels: Mapping[str, str] | None = None,
    ) -> None:
        self.file = file
        self.zone = zone
        self.channel_table: Mapping[str, str] = channels or {}
        self.message_class = "80020"
        self.unmapped: list[_SeriesB] = []
        # per zone of an area (area/@timezone): its placed and its unplaceable periods
        self.zone_caches: dict[
            str, tuple[dict[_PeriodKey, Period], dict[_PeriodKey, PeriodTimeError]]
        ] = {}
        self.area_zones: dict[int, ZoneInfo] = {}
        self.max_errors = max_errors
        self.max_value = max_value
        self.fast = fast
        self.errors: list[AskueError] = []
        self.error_count = 0
        self.warnings: list[str] = []
        self.parser: expat.XMLParserType | None = None
        self.ends: list[str] = []
        self.text: list[str] = []
        self.end = self.ends.append
        self.chars = self.text.append
        self.start = self._start_root
        self.stack: list[str] = []  # open elements other than period and value
        self.fields: dict[str, str] = {}
        self.number = 0
        self.day: date | None = None
        self.areas: list[_AreaB] = []
        self.area: _AreaB | None = None
        self.point: _PointB | None = None
        self.point_level = 0
        self.series_list: list[_SeriesB] = []
        self.series: _SeriesB | None = None  # the open container periods go into
        self.series_level = -1
        self.in_period = False
        self.period_level = 0
        self.period_target: _SeriesB | None = None
        self.period_attrs: list[str] = []
        self.period_values = 0
        self.last = ""  # the last element started
        self.orphan_value = False
        self.value_attrs: list[str] = []
        self.flagged = False  # some period carries flags (the marked repeated hour)
        self.starts_seen: set[datetime] = set()
        self.shared_starts = False  # two period keys of the file start at the same instant
        self.starts = {
            "area": self._start_area,
            "measuringpoint": self._start_point,
            "accountpoint": self._start_point,
            "deliverypoint": self._start_point,
            "measuringchannel": self._start_channel,
            "deliverygroup": self._start_group,
            "peretok": self._start_group,
        }

    # -- locating and recording errors -------------------------------------------------------

    def bind(self, parser: expat.XMLParserType) -> None:
        self.parser = parser

    def _where(self) -> dict[str, int]:
        if self.parser is None:
            return {}
        return {
            "line": self.parser.CurrentLineNumber,
            "column": self.parser.CurrentColumnNumber + 1,
        }

    def _record(
        self, cls: type[AskueError], message: str, *, located: bool = True, **where: str | None
    ) -> None:
        self.error_count += 1
        if len(self.errors) < self.max_errors:
            loc: dict[str, str | int | None] = dict(where)
            if located:
                loc.update(self._where())
            self.errors.append(cls(self.file, message, **loc))  # type: ignore[arg-type]

    def _record_value(self, message: str) -> None:
        target = self.period_target
        self._record(
            FormatError,
            message,
            point=target.point.code if target else None,
            channel=target.channel if target else None,
            period=_period_label(self.period_attrs),
        )

    def _fatal(self, message: str) -> FormatError:
        where = self._where()
        return FormatError(self.file, message, line=where.get("line"), column=where.get("column"))

    def open_elements(self) -> str:
        """Where parsing stands, for a truncated file: ``message/area/measuringpoint ...``."""
        parts = list(self.stack)
        if self.in_period:
            parts.append(f"period {_period_label(self.period_attrs)}")
        where = "/".join(parts)
        if self.point is not None:
            where += f" of point {self.point.code}"
        return where

    # -- start handlers ----------------------------------------------------------------------

    def _start_root(self, name: str, attrs: list[str]) -> None:
        if name != "message":
            raise self._fatal(f"the root element is <{name}>, not <message>: not an 80020 file")
        a = _attr_dict(attrs)
        cls = a.get("class")
        if cls not in MESSAGE_CLASSES:
            raise self._fatal(
                f"message class is {cls!r}, not one of the 80020 family "
                f"({', '.join(MESSAGE_CLASSES)})"
            )
        self.message_class = cls
        version = a.get("version")
        if version not in ("2", "2.0"):
            raise self._fatal(f"message version is {version!r}; this parser reads version 2")
        number = a.get("number", "")
        if not (number.isascii() and number.isdigit()):
            raise self._fatal(f"message number {number!r} is not a whole number")
        self.number = int(number)
        self.stack.append(name)
        self.start = self._start
        self.last = name
        if self.parser is not None:
            self.parser.StartElementHandler = self._start

    def _start(self, name: str, attrs: list[str]) -> None:
        ends = self.ends
        if name == "value":
            if not ends and self.last == "period":
                self.value_attrs = attrs  # the common case: first child of a period
                self.last = "value"
                return
            self._start_value(attrs)
            return
        if name == "period":
            if ends == _VALUE_PERIOD and self.last == "value" and self.fast:
                # The previous period held just a value and closed; the next opens in the
                # same container.
                ends.clear()
                target = self.period_target
                parts = self.text
                va = self.value_attrs
                if target is not None and len(parts) == 1 and len(va) <= 2:
                    target.periods.append(tuple(self.period_attrs))
                    target.texts.append(parts[0])
                    target.value_attrs.append(
                        0 if not va or va == _COMMERCIAL else 1 if va == _NON_COMMERCIAL else va
                    )
                else:
                    self.period_values = 0
                    self._value()
                self.period_attrs = attrs
                self.period_values = 0
                self.text.clear()
                self.last = "period"
                return
            self._start_period(attrs)
            return
        inside_value = self.last == "value" and "value" not in ends
        if ends:
            self._replay()
        self._start_other(name, attrs, inside_value)

    def _start_period(self, attrs: list[str]) -> None:
        if self.ends:
            self._replay()
        if self.in_period:
            raise self._fatal("<period> inside <period>: not an 80020 file")
        self.in_period = True
        self.period_values = 0
        self.period_attrs = attrs
        self.text.clear()
        self.last = "period"
        self.period_level = level = len(self.stack)
        # In a rejected container (reported once) series is None: dropped silently.
        self.period_target = self.series
        if level != self.series_level:
            self.period_target = None
            self._record(
                FormatError,
                f"<period> inside <{self.stack[-1]}>: periods belong in a "
                "measuringchannel, deliverygroup or peretok; not read",
                point=self.point.code if self.point else None,
            )

    def _start_value(self, attrs: list[str]) -> None:
        if not self.ends and self.last == "value":
            raise self._fatal("<value> inside <value>: not an 80020 file")
        if self.ends:
            self._replay()
        self.last = "value"
        self.value_attrs = attrs
        self.text.clear()
        if not self.in_period or len(self.stack) != self.period_level:
            self.orphan_value = True
            self._record(FormatError, f"<value> inside <{self.stack[-1]}>, not in a <period>")

    def _start_other(self, name: str, attrs: list[str], inside_value: bool) -> None:
        if inside_value:
            self._record_value(f"<{name}> inside <value>; a value holds only its number")
        self.last = name
        self.stack.append(name)
        if len(self.stack) > MAX_DEPTH:
            raise self._fatal(f"elements nested more than {MAX_DEPTH} deep: not an 80020 file")
        handler = self.starts.get(name)
        if handler is not None:
            handler(name, _attr_dict(attrs))
        elif name in _TEXT_ELEMENTS:
            self.text.clear()

    def _parent(self) -> str:
        return self.stack[-2] if len(self.stack) > 1 else ""

    def _start_area(self, name: str, attrs: dict[str, str]) -> None:
        if self._parent() != "message":
            raise self._fatal(f"<area> inside <{self._parent()}>, not in <message>")
        self.area = _AreaB(attrs.get("timezone"))
        self.areas.append(self.area)

    def _start_point(self, name: str, attrs: dict[str, str]) -> None:
        code = attrs.get("code", "").strip()
        self.point = None
        self.series = None
        self.point_level = len(self.stack)
        if self._parent() != "area":
            self._record(FormatError, f"<{name}> inside <{self._parent()}>, not in an <area>")
        elif not code:
            self._record(FormatError, f"<{name}> without a code; its values are not read")
        elif self._bad_code(name, code):
            return
        else:
            self.point = _PointB(name, code, attrs.get("name"), self.area)

    def _bad_code(self, name: str, code: str) -> bool:
        """Records a code readings cannot be keyed by; True if it is one."""
        if len(code) <= MAX_CODE_CHARS and code.isprintable():
            return False
        why = (
            f"{len(code)} characters, more than {MAX_CODE_CHARS}"
            if len(code) > MAX_CODE_CHARS
            else "control or non-printing characters in it"
        )
        self._record(
            InvalidIdentifierError,
            f"<{name}> code {_shown(code)}: {why}; its values are not read",
        )
        return True

    def _start_channel(self, name: str, attrs: dict[str, str]) -> None:
        raw = attrs.get("code", "").strip()
        code = raw.zfill(2) if raw.isascii() and raw.isdigit() and len(raw) <= 2 else raw
        self.series = None
        self.series_level = len(self.stack)
        point = self.point
        if self._parent() not in POINT_KINDS_WITH_CHANNELS:
            self._record(
                FormatError,
                f"<measuringchannel> inside <{self._parent()}>, not in a measuring point; not read",
                point=point.code if point else None,
            )
        elif point is None:
            return  # the point was rejected and reported; its channels go with it
        else:
            desc = attrs.get("desc")
            std, how = resolve(code, desc, self.channel_table)
            self.series = _SeriesB(point, std, code, desc, how)
            if std is None:
                # read like any channel; finish() quarantines its values, each by name
                self.unmapped.append(self.series)
                self._record(
                    UnknownChannelError,
                    f"unknown channel: {how}; its values are quarantined",
                    point=point.code,
                    channel=raw,
                )
            else:
                self.series_list.append(self.series)

    def _start_group(self, name: str, attrs: dict[str, str]) -> None:
        self.point = None
        self.series = None
        self.point_level = self.series_level = len(self.stack)
        if name == "peretok":
            frm, to = attrs.get("codefrom", "").strip(), attrs.get("codeto", "").strip()
            code = f"{frm}-{to}" if frm and to else ""
        else:
            code = attrs.get("code", "").strip()
        if self._parent() != "area":
            self._record(FormatError, f"<{name}> inside <{self._parent()}>, not in an <area>")
        elif not code:
            what = "codefrom and codeto" if name == "peretok" else "a code"
            self._record(FormatError, f"<{name}> without {what}; its values are not read")
        elif self._bad_code(name, code):
            return
        else:
            self.point = _PointB(name, code, attrs.get("name"), self.area)
            self.series = _SeriesB(self.point, None)
            self.series_list.append(self.series)

    # -- ends ----------------------------------------------------------------------------------

    def _replay(self) -> None:
        ends = self.ends
        names = list(ends)
        ends.clear()
        for name in names:
            self._end(name)

    def _end(self, name: str) -> None:
        if name == "value":
            if self.orphan_value:
                self.orphan_value = False
            else:
                self._value()
        elif name == "period":
            if self.period_values == 0 and self.period_target is not None:
                self.text.clear()
                self.value_attrs = []
                self._value()  # a period without <value> was sent empty
            self.in_period = False
        else:
            stack = self.stack
            parent = stack[-2] if len(stack) > 1 else ""
            if name in _TEXT_ELEMENTS:
                self._text_field(name, parent)
            elif len(stack) == self.series_level:
                self.series = None
                self.series_level = -1
            if len(stack) == self.point_level:
                self.point = None
                self.point_level = 0
            if name == "area":
                self.area = None
            stack.pop()

    def _text_field(self, name: str, parent: str) -> None:
        text = "".join(self.text).strip()
        self.text.clear()
        if parent == "area" and name in ("inn", "name"):
            if self.area is not None:
                setattr(self.area, name, text)
        elif parent in ("sender", "datetime"):
            self.fields[f"{parent}/{name}"] = text
            if parent == "datetime" and name == "day":
                try:
                    self.day = parse_day(text)
                except ValueError as exc:
                    raise self._fatal(f"<datetime><day>: {exc}") from None

    # -- values: the hot path ------------------------------------------------------------------

    def _value(self) -> None:
        self.period_values += 1
        target = self.period_target
        if target is None:
            return
        if self.period_values > 1:
            self._record_value("more than one <value> in a period; the later ones are ignored")
            return
        va = self.value_attrs
        target.periods.append(tuple(self.period_attrs))
        target.texts.append("".join(self.text))
        target.value_attrs.append(
            0 if not va or va == _COMMERCIAL else 1 if va == _NON_COMMERCIAL else va
        )

    # -- the result ------------------------------------------------------------------------------

    def finish(self, tz: str) -> ParsedFile:
        """The parsed file; call after the last byte was fed."""
        self._replay()
        header = self._header()
        points: dict[int, Point] = {}
        groups: dict[tuple[str, str | None], list[_SeriesB]] = {}
        for sb in self.series_list:
            # A point listed twice in one file is one point: its channels are merged.
            groups.setdefault((sb.point.code, sb.channel), []).append(sb)
        unmapped = list(self.unmapped)
        kept: list[list[_SeriesB]] = []
        for group in groups.values():
            codes = {sb.code for sb in group}
            if len(codes) > 1:
                # channel 11 read as A+ beside the point's own 01: two sources of one quantity
                keep = {group[0].channel} & codes
                for sb in group:
                    if sb.code not in keep:
                        others = ", ".join(sorted(c for c in codes if c and c != sb.code))
                        sb.how = (
                            f"{sb.how}, but channel {others} of the point carries that "
                            "quantity too; which one to store is not known"
                        )
                        unmapped.append(sb)
                group = [sb for sb in group if sb.code in keep]
                if not group:
                    continue
            kept.append(group)
        series = tuple(self._series(group, header.day, points) for group in kept)
        lost: dict[tuple[str, str | None], list[_SeriesB]] = {}
        for sb in unmapped:
            lost.setdefault((sb.point.code, sb.code), []).append(sb)
        unread = tuple(self._series(group, header.day, points) for group in lost.values())
        return ParsedFile(
            file=self.file,
            tz=tz,
            header=header,
            series=series,
            errors=tuple(self.errors),
            error_count=self.error_count,
            warnings=tuple(self.warnings),
            unmapped=unread,
        )

    def _zone_of(self, area: _AreaB | None) -> ZoneInfo:
        if area is None:
            return self.zone
        zone = self.area_zones.get(id(area))
        if zone is None:
            zone, warning = area_zone(area.timezone, self.zone)
            self.area_zones[id(area)] = zone
            if warning:
                self.warnings.append(warning)
        return zone

    def _series(self, group: list[_SeriesB], day: date, points: dict[int, Point]) -> Series:
        pb = group[0].point
        point = points.get(id(pb))
        if point is None:
            area_inn = pb.area.inn if pb.area is not None else None
            point = points[id(pb)] = Point(pb.kind, pb.code, pb.name, area_inn)
        channel = group[0].channel
        zone = self._zone_of(pb.area)
        cache = self.zone_caches.get(zone.key)
        if cache is None:
            cache = self.zone_caches[zone.key] = ({}, {})
        placed, unplaceable = cache
        if len(group) == 1:
            keys, texts, vattrs = group[0].periods, group[0].texts, group[0].value_attrs
        else:
            keys = [k for sb in group for k in sb.periods]
            texts = [t for sb in group for t in sb.texts]
            vattrs = [v for sb in group for v in sb.value_attrs]
        periods = list(map(placed.get, keys))
        if None in periods:
            for key in set(keys).difference(placed, unplaceable):
                self._place(key, day, zone, placed, unplaceable)
            periods = list(map(placed.get, keys))
        columns = (
            _bulk_columns(periods, texts, vattrs, self.flagged, self.max_value)
            if self.fast
            else None
        )
        if columns is None:
            columns = self._checked_columns(
                point.code, group[0].code, keys, periods, texts, vattrs, unplaceable
            )
        # Distinct periods of a file have distinct starts unless two keys say the same time
        # (attributes in another order, another end): then compare the starts themselves.
        same = self.shared_starts
        found = columns[0]
        if len(set(map(_START_UTC if same else id, found))) != len(found):
            columns = self._drop_repeats(columns, point.code, group[0].code)
        attributes: dict[Period, dict[str, str]] = {}
        if vattrs.count(0) + vattrs.count(1) != len(vattrs):
            for period, va in zip(periods, vattrs, strict=True):
                if period is not None and isinstance(va, list):
                    extra = {k: a for k, a in _attr_dict(va).items() if k != "status"}
                    if extra:
                        attributes[period] = extra
        return Series(
            point=point,
            channel=channel if channel is not None or group[0].code is None else group[0].code,
            periods=tuple(columns[0]),
            values=tuple(columns[1]),
            flags=tuple(columns[2]),
            attributes=attributes,
            code=group[0].code,
            desc=group[0].desc,
            how=group[0].how,
        )

    def _place(
        self,
        key: _PeriodKey,
        day: date,
        zone: ZoneInfo,
        placed: dict[_PeriodKey, Period],
        unplaceable: dict[_PeriodKey, PeriodTimeError],
    ) -> None:
        a = _attr_dict(key)
        try:
            period, warning = resolve_period(
                day, zone, a.get("start"), a.get("end"), a.get("summer")
            )
        except PeriodTimeError as exc:
            unplaceable[key] = exc
            return
        self.shared_starts = self.shared_starts or period.start_utc in self.starts_seen
        self.starts_seen.add(period.start_utc)
        placed[key] = period
        self.flagged = self.flagged or bool(period.flags)
        if warning:
            self.warnings.append(warning)

    def _checked_columns(
        self,
        code: str,
        channel: str | None,
        keys: list[_PeriodKey],
        periods: list[Period | None],
        texts: list[str],
        vattrs: list[_Attrs],
        unplaceable: dict[_PeriodKey, PeriodTimeError],
    ) -> _Columns:
        """Value by value, recording an error for each one that cannot be read."""
        out: _Columns = ([], [], [])
        for key, period, text, va in zip(keys, periods, texts, vattrs, strict=True):

            def bad(
                message: str, key: _PeriodKey = key, cls: type[AskueError] = FormatError
            ) -> None:
                self._record(
                    cls,
                    message,
                    located=False,
                    point=code,
                    channel=channel,
                    period=_period_label(key),
                )

            if period is None:
                exc = unplaceable[key]
                bad(
                    str(exc),
                    cls=TimeOutOfRangeError if isinstance(exc, _TimeRange) else FormatError,
                )
                continue
            value: Decimal | None = None
            if text and not text.isspace():
                try:
                    value = Decimal(text)
                except InvalidOperation:
                    value = None
                if value is None or not value.is_finite() or "_" in text:
                    bad(f"value {_shown(text.strip())} is not a number")
                    continue
                if value.copy_abs() > self.max_value:
                    bad(
                        f"value {_shown(text.strip())} is beyond the ceiling of "
                        f"{self.max_value:,f}; no meter measures it",
                        cls=ValueTooLargeError,
                    )
                    continue
            flags = period.flags
            a = _attr_dict(va) if isinstance(va, list) else {"status": str(va)}
            status = a.get("status")
            if status == "1":
                flags |= _NC
            elif status not in (None, "", "0"):
                bad(f"status={status!r}: 80020 knows 0 (commercial) and 1 (non-commercial)")
                continue
            if a.get("errofmeasuring") not in (None, "", "0"):
                flags |= _MEASUREMENT_ERROR
            if a.get("extendedstatus", a.get("exstendedstatus")) not in (None, "", "0"):
                flags |= _MEASUREMENT_ERROR  # the code and param1..3 stay in Series.attributes
            out[0].append(period)
            out[1].append(value)
            out[2].append(flags)
        return out

    def _drop_repeats(self, columns: _Columns, code: str, channel: str | None) -> _Columns:
        seen: set[datetime] = set()
        out: _Columns = ([], [], [])
        for period, value, flags in zip(*columns, strict=True):
            if period.start_utc in seen:
                hint = (
                    '; on a changeover day the first of the repeated hour must carry summer="1"'
                    if not period.summer
                    else ""
                )
                self._record(
                    FormatError,
                    f"the period appears twice{hint}; the later value is not read",
                    located=False,
                    point=code,
                    channel=channel,
                    period=period.label,
                )
                continue
            seen.add(period.start_utc)
            out[0].append(period)
            out[1].append(value)
            out[2].append(flags)
        return out

    def _header(self) -> Header:
        f = self.fields
        if self.day is None:
            raise FormatError(self.file, "no <datetime><day>: the file does not say its day")
        sender_inn = f.get("sender/inn")
        if not sender_inn:
            raise FormatError(self.file, "no <sender><inn>: the file does not say who sent it")
        created = None
        stamp = f.get("datetime/timestamp")
        if stamp:
            try:
                created = local_timestamp(stamp, self.zone)
            except ValueError as exc:
                cls = TimeOutOfRangeError if isinstance(exc, _TimeRange) else FormatError
                self._record(cls, f"<datetime><timestamp>: {exc}", located=False)
        dst: int | None = None
        dst_text = f.get("datetime/daylightsavingtime")
        if dst_text:
            if dst_text in ("0", "1", "2"):
                dst = int(dst_text)
            else:
                self.warnings.append(f"daylightsavingtime {dst_text!r} is not 0, 1 or 2; ignored")
        return Header(
            number=self.number,
            sender_inn=sender_inn,
            sender_name=f.get("sender/name"),
            day=self.day,
            created=created,
            dst=dst,
            areas=tuple(Area(a.inn, a.name, a.timezone) for a in self.areas),
            message_class=self.message_class,
        )


def _bulk_columns(
    periods: list[Period | None],
    texts: list[str],
    vattrs: list[_Attrs],
    flagged: bool,
    max_value: Decimal,
) -> _Columns | None:
    """A channel's columns converted by C loops, when all its values are plain numbers within
    the ceiling with status 0/1/none in known periods; None if anything needs a value-by-value
    look."""
    if None in periods or flagged:
        return None
    try:
        values = list(map(Decimal, texts))
    except InvalidOperation:
        return None
    if not all(map(Decimal.is_finite, values)) or "_" in "".join(texts):
        return None
    if values and (max(values) > max_value or min(values) < -max_value):
        return None
    n = len(texts)
    zeros = vattrs.count(0)
    if zeros == n:
        flags = [0] * n
    elif zeros + vattrs.count(1) == n:
        flags = list(map(_NC.__mul__, vattrs))  # type: ignore[arg-type]
    else:
        return None
    return periods, values, flags  # type: ignore[return-value]


def _shown(text: str) -> str:
    """``text`` quoted for an error, cut to a readable length."""
    if len(text) <= SHOWN_CHARS:
        return repr(text)
    return f"{text[:SHOWN_CHARS]!r}... ({len(text)} characters)"


def _period_label(attrs: list[str] | tuple[str, ...]) -> str:
    a = _attr_dict(attrs)
    label = f"{a.get('start')}-{a.get('end')}"
    return label + " summer" if a.get("summer") == "1" else label
