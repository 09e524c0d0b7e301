"""Binding many meters at once from a CSV file (the API and the operator page share it).

The file: UTF-8 (or Windows-1251, as Excel saves it), ``;`` or ``,`` between fields, a header
line naming the columns in any order (English or Russian names)::

    meter;premise;house;service
    mqtt:apt1-cw:cold_water;h1-1;;
    1234;h1-2;;
    askue:odpu-7;;h1;electricity

- ``meter`` (``счётчик``): the registry id shown on the meters page, or
  ``source:serial[:channel]``; without a channel, every register of that meter.
- ``premise`` (``помещение``) or ``house`` (``дом``, for an ОДПУ): exactly one of the two.
- ``service`` (``услуга``, optional): only that service's registers of the meter (and a check
  that the meter id named is one).

Every line is checked; the lines without an error are bound (in one transaction), the others
are reported by line and field. A meter the registry does not know is an error, never created.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from adapters.store import meters as registry
from adapters.store.connections import Connection
from core.channels import CANONICAL_UNIT

MAX_LINES = 200_000
HEADER = "meter;premise;house;service"
COLUMNS = {
    "meter": "meter", "счётчик": "meter", "счетчик": "meter",
    "premise": "premise", "помещение": "premise",
    "house": "house", "дом": "house",
    "service": "service", "услуга": "service",
}  # fmt: skip
_INT4 = 2**31 - 1


@dataclass(frozen=True, slots=True)
class LineError:
    line: int  # 1-based line of the file
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class BindLine:
    line: int
    meter: str
    premise: str | None
    house: str | None
    service: str | None


@dataclass(slots=True)
class BulkReport:
    lines: int = 0  # data lines read
    bound_lines: int = 0  # lines bound (or that would be, on a dry run)
    bound_meters: list[int] = field(default_factory=list)  # registry ids bound
    errors: list[LineError] = field(default_factory=list)


class FileError(Exception):
    """The file cannot be read as a whole (its encoding); ``line``: where it breaks."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1251")  # what Excel writes for a Russian locale
    except UnicodeDecodeError as exc:  # a byte Windows-1251 leaves undefined (0x98)
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileError(
            line, f"файл не в кодировке UTF-8 или Windows-1251 (байт 0x{data[exc.start]:02X} в "
            f"строке {line}): сохраните его как CSV UTF-8",
        ) from None  # fmt: skip


def _rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str] | LineError]]:
    """(the line a record starts on, its cells) — or the error that stops the reading (a field
    over the csv module's limit, a line break inside an unquoted field): nothing after it is
    read."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            why = (
                f"поле длиннее {csv.field_size_limit()} символов"
                if "field limit" in str(exc)
                else f"не читается как CSV ({exc})"
            )
            yield reader.line_num, LineError(reader.line_num, "line", f"{why}; дальше не прочитано")
            return
        yield start, row
        start = reader.line_num + 1


def parse(data: bytes) -> tuple[list[BindLine], list[LineError]]:
    """The file's lines (empty ones skipped) and the errors a line shows on its own. Lines are
    numbered as in the file (a quoted field may span several)."""
    try:
        text = _text(data)
    except FileError as exc:
        return [], [LineError(exc.line, "file", str(exc))]
    head = text.partition("\n")[0]
    delimiter = ";" if head.count(";") >= head.count(",") else ","
    rows = _rows(text, delimiter)
    _, header = next(rows, (1, []))
    if isinstance(header, LineError):
        return [], [header]
    if not any(h.strip() for h in header):
        return [], [LineError(1, "header", "пустой файл: нужна строка заголовка " + HEADER)]
    names = [COLUMNS.get(h.strip().lower()) for h in header]
    unknown = [h for h, n in zip(header, names, strict=True) if n is None and h.strip()]
    if unknown or "meter" not in names or not {"premise", "house"} & set(names):
        return [], [
            LineError(
                1, "header",
                "заголовок должен называть столбцы meter и premise и/или house (и, если нужно,"
                f" service); не понятны: {', '.join(unknown) or '—'}",
            )
        ]  # fmt: skip
    lines: list[BindLine] = []
    errors: list[LineError] = []
    for number, row in rows:
        if isinstance(row, LineError):
            errors.append(row)
            break
        if not any(cell.strip() for cell in row):
            continue
        if len(lines) + len(errors) >= MAX_LINES:
            errors.append(LineError(number, "file", f"больше {MAX_LINES} строк: разделите файл"))
            break
        cells = {n: c.strip() for n, c in zip(names, row, strict=False) if n is not None}
        if len(row) > len(names):
            errors.append(LineError(number, "line", f"{len(row)} полей, в заголовке {len(names)}"))
            continue
        if bad := next((n for n, c in cells.items() if "\x00" in c), None):
            errors.append(LineError(number, bad, "недопустимый символ NUL (\\0) в поле"))
            continue
        line = BindLine(
            number, cells.get("meter", ""), cells.get("premise") or None,
            cells.get("house") or None, cells.get("service") or None,
        )  # fmt: skip
        if problem := _own_error(line):
            errors.append(problem)
        else:
            lines.append(line)
    return lines, errors


def _is_id(text: str) -> bool:
    return text.isascii() and text.isdigit()  # "３" is a digit to str.isdigit


def _own_error(line: BindLine) -> LineError | None:
    if not line.meter:
        return LineError(line.line, "meter", "не указан счётчик")
    if not _is_id(line.meter):
        try:
            registry.parse_key(line.meter)
        except registry.MeterKeyError:
            return LineError(
                line.line, "meter",
                f"«{line.meter}»: ожидается номер из реестра или источник:серийный[:канал]",
            )  # fmt: skip
    elif not 1 <= int(line.meter) <= _INT4:
        return LineError(line.line, "meter", f"нет счётчика с номером {line.meter}")
    if (line.premise is None) == (line.house is None):
        return LineError(line.line, "premise", "укажите ровно одно: помещение или дом")
    if line.service is not None and line.service not in CANONICAL_UNIT:
        known = ", ".join(sorted(CANONICAL_UNIT))
        return LineError(line.line, "service", f"неизвестная услуга «{line.service}» ({known})")
    return None


async def _registers(
    conn: Connection, lines: list[BindLine]
) -> dict[int, list[registry.Register] | LineError]:
    """The registry rows each line names, or why it names none."""
    by_id = await registry.registers_by_id(conn, [int(x.meter) for x in lines if _is_id(x.meter)])
    keys = {x.line: registry.parse_key(x.meter) for x in lines if not (_is_id(x.meter))}
    by_serial = await registry.registers_by_serial(conn, sorted({k[:2] for k in keys.values()}))
    found: dict[int, list[registry.Register] | LineError] = {}
    for x in lines:
        if x.line in keys:
            source, serial, channel = keys[x.line]
            regs = [
                r for r in by_serial.get((source, serial), [])
                if channel is None or r.channel == channel
            ]  # fmt: skip
        else:
            one = by_id.get(int(x.meter))
            regs = [one] if one is not None else []
        if not regs:
            found[x.line] = LineError(x.line, "meter", f"счётчик «{x.meter}» не найден в реестре")
            continue
        fitting = [r for r in regs if x.service is None or r.service == x.service]
        if not fitting:
            have = ", ".join(sorted({r.service for r in regs}))
            found[x.line] = LineError(
                x.line, "service", f"у счётчика «{x.meter}» нет услуги {x.service} (есть: {have})"
            )
            continue
        found[x.line] = fitting
    return found


async def check_and_bind(conn: Connection, data: bytes, *, dry_run: bool = False) -> BulkReport:
    """Checks every line of the file and binds the good ones (unless ``dry_run``)."""
    lines, errors = parse(data)
    report = BulkReport(
        lines=len(lines) + len({e.line for e in errors if e.line > 1 and e.field != "file"})
    )
    premises, houses = await registry.known_owners(
        conn, sorted({x.premise for x in lines if x.premise}),
        sorted({x.house for x in lines if x.house}),
    )  # fmt: skip
    registers = await _registers(conn, lines)
    first_line: dict[int, int] = {}  # meter id -> the line that binds it
    bindings: list[tuple[int, str | None, str | None]] = []
    for x in lines:
        regs = registers[x.line]
        if isinstance(regs, LineError):
            errors.append(regs)
        elif x.premise is not None and x.premise not in premises:
            errors.append(LineError(x.line, "premise", f"помещение «{x.premise}» не найдено"))
        elif x.house is not None and x.house not in houses:
            errors.append(LineError(x.line, "house", f"дом «{x.house}» не найден"))
        elif seen := [first_line[r.id] for r in regs if r.id in first_line]:
            errors.append(LineError(x.line, "meter", f"этот счётчик уже указан в строке {seen[0]}"))
        else:
            for r in regs:
                first_line[r.id] = x.line
                bindings.append((r.id, x.premise, x.house))
            report.bound_lines += 1
    if not dry_run:
        await registry.bind_many(conn, bindings)
    report.bound_meters = sorted(first_line)
    report.errors = sorted(errors, key=lambda e: e.line)
    return report
