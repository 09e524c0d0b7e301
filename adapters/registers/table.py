"""Rows of a register export -> a columnar batch of register readings, through a mapping.

Every value keeps the number of the row it came from, so quarantined readings and the report
can name the row. A row that cannot become readings (no meter serial, a date that is not a
date, text in a number column, an unknown unit or service) is kept as a :class:`Problem` with
its row number and reason; the rest of the file goes on.

A date without a time means ``time_of_day`` (default 00:00, the start of that local day:
"показания на 01.04" is the state at the start of 1 April) in the mapping's time zone; a date
format with ``%z`` takes the offset written in the cell. Poison stays in its row: a date with no
UTC instant (``01.01.0001`` in Moscow) is ``timestamp_out_of_range``, a value above the ceiling
(``1e300``, a 400-digit number) ``value_too_large``, a meter serial with NUL or control
characters or over 200 characters ``invalid_identifier``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from zoneinfo import ZoneInfo

from adapters.registers.errors import RegisterFileError
from adapters.registers.mapping import ColumnRef, Mapping, header_key
from core.batch import NO_END, Columns, to_us
from core.channels import canonical_unit, conversion_factor
from core.codes import Reason
from core.errors import PayloadError
from core.reading import Kind

_NUMBER = re.compile(r"[+-]?\d+(?:\.\d+)?")
MAX_VALUE = 1e12
"""The largest magnitude of a reading, in the channel's canonical unit: what the API accepts,
and well within what billing computes exactly; no register shows more."""
MAX_SERIAL_CHARS = 200
"""The longest meter serial read: the store keys readings by it (PostgreSQL refuses an index
row over ~2,700 bytes); real serials are a few dozen characters at most."""
SHOWN_CHARS = 40
POWER_UNITS = {"W": "Wh", "kW": "kWh", "MW": "MWh", "var": "varh", "kvar": "kvarh", "kVA": "kVAh"}
"""Average power over an interval (a power profile, кВт): energy = power x interval length."""
_SPACES = str.maketrans("", "", " \xa0\u202f\u2009'")  # thousands separators people use


@dataclass(frozen=True, slots=True)
class Problem:
    """A row (or one value of it) that could not become a reading."""

    row: int
    reason: str
    detail: str
    meter: str | None
    channel: str | None
    payload: bytes


@dataclass(slots=True)
class Table:
    """A file read through a mapping: readings as columns, their row numbers, the problems."""

    cols: Columns = field(default_factory=Columns)
    rows: list[int] = field(default_factory=list)  # parallel to cols.ts
    problems: list[Problem] = field(default_factory=list)
    data_rows: int = 0
    skipped_rows: int = 0
    empty_intervals: int = 0  # interval rows with every value cell empty (not measured)
    # first row of each meter serial with the account and premise the file gives for it
    hints: dict[str, tuple[int, str | None, str | None]] = field(default_factory=dict)


def cell_text(cell: object) -> str:
    """A cell as text: integral numbers without ``.0`` (serials and accounts stored as numbers)."""
    if type(cell) is str:
        return cell.strip()
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


def shown(text: str) -> str:
    """``text`` quoted for a problem's detail, cut to a readable length."""
    if len(text) <= SHOWN_CHARS:
        return repr(text)
    return f"{text[:SHOWN_CHARS]!r}... ({len(text)} characters)"


def bad_identifier(text: str) -> str | None:
    """Why a meter serial (or account, premise) cannot key stored rows, or None if it can."""
    if len(text) > MAX_SERIAL_CHARS:
        return f"{len(text)} characters, more than {MAX_SERIAL_CHARS}"
    if not text.isprintable():
        return "NUL, control or non-printing characters in it"
    return None


def parse_number(cell: object, decimal: str) -> float | None:
    """A cell as a number, or None when it is not one (decimal ``,``/``.``/``auto``)."""
    if type(cell) is not str:
        if isinstance(cell, bool) or not isinstance(cell, int | float):
            return None
        return float(cell) if math.isfinite(cell) else None
    text = cell.translate(_SPACES)
    if decimal == ",":
        if "." in text:
            return None
        text = text.replace(",", ".")
    elif decimal == "auto" and "," in text:
        if "." in text:  # both: the last one is the decimal mark, the other groups thousands
            if text.rfind(",") > text.rfind("."):
                text = text.replace(".", "").replace(",", ".")
            else:
                text = text.replace(",", "")
        else:
            text = text.replace(",", ".")
    if not _NUMBER.fullmatch(text):
        return None
    return float(text)


def resolve_columns(
    mapping: Mapping, header: Sequence[object] | None, *, file: str, line: int | None
) -> dict[str, int]:
    """0-based cell index of every mapped role; RegisterFileError naming a missing column."""
    return column_index(
        mapping.columns(), header, what=f"mapping {mapping.name!r}", file=file, line=line
    )


def column_index(
    columns: dict[str, ColumnRef],
    header: Sequence[object] | None,
    *,
    what: str,
    file: str,
    line: int | None,
    optional: Collection[str] = (),
) -> dict[str, int]:
    """0-based cell index of each role's column (by 1-based position or header name); a named
    column missing from the header is a RegisterFileError naming it, unless its role is
    ``optional`` (then the role is left out)."""
    names: dict[str, int] = {}
    for i, cell in enumerate(header or ()):
        names.setdefault(header_key(cell_text(cell)), i)
    index: dict[str, int] = {}
    missing = []
    for role, ref in columns.items():
        if isinstance(ref, int):
            index[role] = ref - 1
        elif header_key(ref) in names:
            index[role] = names[header_key(ref)]
        elif role not in optional:
            missing.append(ref)
    if missing:
        found = ", ".join(repr(cell_text(c)) for c in header or () if cell_text(c))
        raise RegisterFileError(
            file,
            f"{what}: column(s) {', '.join(map(repr, missing))} not in the header row;"
            f" it has {found or 'no names'}",
            line=line,
        )
    return index


class TableReader:
    """Turns rows into a :class:`Table`; caches dates, units and channels (they repeat)."""

    def __init__(
        self,
        mapping: Mapping,
        *,
        tz: str,
        file: str,
        max_value: float = MAX_VALUE,
        meter: str | None = None,
    ) -> None:
        self.m = mapping
        self.file = file
        self.file_meter = meter  # the serial found outside the rows (meter_label)
        self.max_value = max_value
        self.zone = ZoneInfo(mapping.timezone or tz)
        self.time_of_day = time.fromisoformat(mapping.time_of_day)
        self._instants: dict[tuple[object, object], int | tuple[str, str]] = {}
        self._factors: dict[tuple[str, str], float | str] = {}
        self.interval_us = (mapping.interval_minutes or 0) * 60_000_000

    def meter_of_file(self) -> str:
        """The meter serial in the file's name (``meter_from_name``); RegisterFileError if
        the name has none."""
        if self.file_meter is not None:
            return self.file_meter
        pattern = self.m.meter_from_name
        if pattern is None:
            raise RegisterFileError(
                self.file, f"mapping {self.m.name!r}: the meter serial was not looked up"
            )
        stem = self.file.rsplit(".", 1)[0] if "." in self.file else self.file
        found = re.search(pattern, stem)
        serial = (found.group(1) if found.groups() else found.group(0)) if found else ""
        if not serial or bad_identifier(serial) is not None:
            raise RegisterFileError(
                self.file,
                f"mapping {self.m.name!r} takes the meter serial from the file name, and"
                f" {stem!r} has none ({pattern!r} finds nothing); rename the file or name a"
                " mapping with a meter column",
            )
        return serial

    # -- cells --------------------------------------------------------------------------

    def _local_date(self, cell: object) -> tuple[date, time | None, tzinfo | None] | None:
        if isinstance(cell, datetime):
            # Excel keeps dates as datetimes: midnight exactly means "a date, no time"
            return cell.date(), (cell.time() if cell.time() != time(0) else None), None
        if isinstance(cell, date):
            return cell, None, None
        text = cell_text(cell)
        for fmt in self.m.date_format:
            try:
                parsed = datetime.strptime(text, fmt)
            except ValueError:
                continue
            has_time = any(d in fmt for d in ("%H", "%I", "%M", "%S"))
            return parsed.date(), (parsed.time() if has_time else None), parsed.tzinfo
        return None

    def _clock(self, cell: object) -> time | None:
        if isinstance(cell, time):
            return cell
        if isinstance(cell, datetime):
            return cell.time()
        try:
            return datetime.strptime(cell_text(cell), self.m.time_format).time()
        except ValueError:
            return None

    def instant(self, date_cell: object, time_cell: object) -> int | tuple[str, str]:
        """Epoch microseconds (UTC) of a date (and time) cell, or (reason, what is wrong)."""
        key = (date_cell, time_cell)
        hit = self._instants.get(key)
        if hit is not None:
            return hit
        day = self._local_date(date_cell)
        if day is None:
            hit = (
                Reason.MALFORMED,
                f"date {shown(cell_text(date_cell))} does not match"
                f" {' or '.join(self.m.date_format)}",
            )
        else:
            clock = day[1]
            if self.m.time is not None and cell_text(time_cell):
                clock = self._clock(time_cell)
                if clock is None:
                    hit = (
                        Reason.MALFORMED,
                        f"time {shown(cell_text(time_cell))} does not match {self.m.time_format}",
                    )
            if hit is None:
                local = datetime.combine(day[0], clock or self.time_of_day, day[2] or self.zone)
                try:
                    hit = to_us(local.astimezone(UTC))
                except OverflowError:
                    hit = (
                        Reason.TIMESTAMP_OUT_OF_RANGE,
                        f"{local.isoformat()} ({cell_text(date_cell)} in "
                        f"{day[2] or self.zone}) cannot be represented in UTC (outside "
                        "0001-01-01..9999-12-31)",
                    )
        if len(self._instants) < 100_000:
            self._instants[key] = hit
        return hit

    def factor(self, unit: str, channel: str) -> float | str:
        key = (unit, channel)
        hit = self._factors.get(key)
        if hit is None:
            name = self.m.unit_name(unit) if unit else ""
            hours = self.interval_us / 3.6e9
            try:
                if name in POWER_UNITS and hours:
                    hit = conversion_factor(POWER_UNITS[name], channel) * hours
                else:
                    hit = conversion_factor(name, channel) if unit else 1.0
            except PayloadError as exc:
                hit = exc.detail
            self._factors[key] = hit
        return hit

    # -- rows ---------------------------------------------------------------------------

    def read(self, rows: Iterable[tuple[int, Sequence[object]]]) -> Table:
        m = self.m
        rows = iter(rows)
        header_line = None
        header = None
        if m.header:
            for number, head in rows:
                if any(cell_text(c) for c in head):
                    header_line, header = number, head
                    break
            else:
                raise RegisterFileError(self.file, "no header row: the file has no rows")
        index = resolve_columns(m, header, file=self.file, line=header_line)
        name = {
            role: (repr(ref) if isinstance(ref, str) else f"#{ref}")
            for role, ref in m.columns().items()
        }
        label = {
            role: str(ref) if isinstance(ref, str) else f"#{ref}"
            for role, ref in m.columns().items()
        }
        width = max(index.values()) + 1
        i_meter, i_date = index.get("meter"), index["date"]
        file_meter = self.meter_of_file() if i_meter is None else ""
        interval = self.interval_us
        start_shift = interval if m.time_is == "end" else 0
        kind = Kind.INTERVAL if interval else Kind.REGISTER
        i_time, i_service, i_unit = index.get("time"), index.get("service"), index.get("unit")
        i_account, i_premise = index.get("account"), index.get("premise")
        values = [(index[f"value:{k}"], v) for k, v in enumerate(m.values)]
        t = Table()
        cols, out_rows, problems, hints = t.cols, t.rows, t.problems, t.hints
        source, decimal = m.source, m.decimal

        def problem(number: int, reason: str, detail: str, **payload: object) -> None:
            meter, channel = payload.get("meter"), payload.get("channel")
            problems.append(
                Problem(
                    number,
                    reason,
                    # PostgreSQL text holds no NUL; the payload (JSON) escapes it
                    f"{self.file}, row {number}: {detail}".replace("\x00", "\\x00"),
                    str(meter) if meter else None,
                    str(channel) if channel else None,
                    json.dumps({**payload, "source": source}, ensure_ascii=False).encode(),
                )
            )

        def texts(cells: list[object]) -> dict[str, str]:
            return {label[f"value:{k}"]: cell_text(cells[i]) for k, (i, _) in enumerate(values)}

        skip = re.compile("(?m)" + "|".join(f"(?:{p})" for p in m.skip_if)) if m.skip_if else None
        pad: list[object] = [""] * width
        for number, raw in rows:
            # cells as stripped text (CSV) or typed values with text beside them (XLSX)
            texts_: list[str]
            if type(raw) is list:
                texts_ = [c.strip() for c in raw]
                cells: list[object] = list(texts_)
            else:
                cells = list(raw)
                texts_ = [cell_text(c) for c in cells]
            if not any(texts_):
                t.skipped_rows += 1
                continue
            # one search over the row's cells, one per line: ^ and $ anchor at each cell
            if skip is not None and skip.search("\n".join(texts_)):
                t.skipped_rows += 1
                continue
            if len(cells) < width:
                cells = cells + pad[: width - len(cells)]
            t.data_rows += 1
            meter = cell_text(cells[i_meter]) if i_meter is not None else file_meter
            date_cell = cells[i_date]
            time_cell = cells[i_time] if i_time is not None else None
            if not meter:
                problem(
                    number, Reason.MALFORMED, f"no meter serial in column {name['meter']}",
                    date=cell_text(date_cell), values=texts(cells),
                )  # fmt: skip
                continue
            why = bad_identifier(meter)
            if why is not None:
                problem(
                    number, Reason.INVALID_IDENTIFIER,
                    f"meter serial {shown(meter)} in column {name['meter']}: {why}",
                    serial=meter, date=cell_text(date_cell), values=texts(cells),
                )  # fmt: skip
                continue
            if meter not in hints:
                hints[meter] = (
                    number,
                    _hint(cells[i_account]) if i_account is not None else None,
                    _hint(cells[i_premise]) if i_premise is not None else None,
                )
            ts = self.instant(date_cell, time_cell)
            if not isinstance(ts, int):
                problem(
                    number, ts[0], f"column {name['date']}: {ts[1]}",
                    meter=meter, date=cell_text(date_cell), values=texts(cells),
                )  # fmt: skip
                continue
            row_channel = None
            if i_service is not None:
                service_text = cell_text(cells[i_service])
                row_channel = m.services.get(header_key(service_text))
                if row_channel is None and any(v.channel is None for v in m.values):
                    problem(
                        number, Reason.UNKNOWN_CHANNEL,
                        f"service {service_text!r} in column {name['service']} is not one of"
                        f" {', '.join(sorted(m.services))}",
                        meter=meter, service=service_text, values=texts(cells),
                    )  # fmt: skip
                    continue
            row_unit = cell_text(cells[i_unit]) if i_unit is not None else ""
            found = 0
            for k, (i, column) in enumerate(values):
                cell = cells[i]
                if cell is None or cell == "" or (type(cell) is str and not cell.strip()):
                    continue  # an empty zone: a single-rate meter in a multi-rate layout
                found += 1
                channel = column.channel or row_channel
                assert channel is not None
                unit = column.unit or row_unit or m.default_unit or ""
                factor = self.factor(unit, channel)
                value = parse_number(cell, decimal) if not isinstance(factor, str) else None
                if value is None or isinstance(factor, str):
                    detail = (
                        factor
                        if isinstance(factor, str)
                        else f"column {name[f'value:{k}']}: {shown(cell_text(cell))}"
                        " is not a number"
                    )
                    problem(
                        number,
                        Reason.UNKNOWN_UNIT if isinstance(factor, str) else Reason.MALFORMED,
                        detail,
                        meter=meter, channel=channel, ts=ts_iso(ts), value=cell_text(cell),
                        unit=unit or None,
                    )  # fmt: skip
                    continue
                value *= factor
                if not abs(value) <= self.max_value:  # also inf (400 digits) and nan
                    problem(
                        number, Reason.VALUE_TOO_LARGE,
                        f"column {name[f'value:{k}']}: {shown(cell_text(cell))} is beyond the"
                        f" ceiling of {self.max_value:,.0f} {canonical_unit(channel)}",
                        meter=meter, channel=channel, ts=ts_iso(ts), value=cell_text(cell),
                        unit=unit or None,
                    )  # fmt: skip
                    continue
                cols.source.append(source)
                cols.meter.append(meter)
                cols.channel.append(channel)
                cols.ts.append(ts - start_shift)
                cols.value.append(value)
                cols.kind.append(kind)
                cols.flags.append(0)
                cols.end.append(ts - start_shift + interval if interval else NO_END)
                out_rows.append(number)
            if not found and interval:
                t.empty_intervals += 1  # an interval not measured (yet): no value, no error
            elif not found:
                problem(
                    number, Reason.MALFORMED,
                    f"no reading in {', '.join(name[f'value:{k}'] for k in range(len(values)))}",
                    meter=meter, date=cell_text(date_cell),
                )  # fmt: skip
        return t


def _hint(cell: object) -> str | None:
    """An account or premise cell as a hint for a new meter; None if empty or unusable."""
    text = cell_text(cell)
    return text if text and bad_identifier(text) is None else None


def ts_iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).isoformat()
