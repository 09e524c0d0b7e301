"""A property register file (CSV or XLSX) -> :class:`RegisterRow`s, through a mapping.

Uses the readers of register exports (``adapters.registers.csvfile``/``xlsxfile``: encoding
and delimiter found from the content, workbook size bounds). A row that cannot be used (no
address, an area that is not a positive number, a count that is not a whole number, an
unknown purpose) is a problem naming the file, the row and the column; the other rows are
kept.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from adapters.property.mapping import PropertyMapping
from adapters.registers import csvfile, xlsxfile
from adapters.registers.errors import RegisterFileError
from adapters.registers.table import bad_identifier, cell_text, column_index, shown
from core.reconcile.model import RegisterRow

MAX_AREA = Decimal(1_000_000)
MAX_COUNT = 10_000
MAX_ADDRESS = 1000
_SPACES = str.maketrans("", "", " \xa0\u202f\u2009'")
_NAMES = re.compile(r"[;\n]|,(?=\s*[А-ЯЁA-Z])")


@dataclass(slots=True)
class RegisterFile:
    file: str
    rows: list[RegisterRow] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (row, "file, row N: ...")
    skipped: int = 0


def _decimal(cell: object, decimal: str) -> Decimal | None:
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int):
        return Decimal(cell)
    if isinstance(cell, float):
        return Decimal(repr(cell)) if cell == cell and abs(cell) != float("inf") else None
    text = cell_text(cell).translate(_SPACES)
    if decimal == "," or (decimal == "auto" and "," in text and "." not in text):
        text = text.replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def read_rows(
    m: PropertyMapping, rows: Iterable[tuple[int, Sequence[object]]], *, file: str
) -> RegisterFile:
    """The register rows of ``rows`` (``(row number, cells)``, as the file readers give)."""
    out = RegisterFile(file)
    rows = iter(rows)
    header = header_line = None
    if m.header:
        for number, head in rows:
            if any(cell_text(c) for c in head):
                header_line, header = number, head
                break
        else:
            raise RegisterFileError(file, "no header row: the file has no rows")
    index = column_index(
        m.columns(), header, what=f"property mapping {m.name!r}", file=file, line=header_line,
        optional=m.optional,
    )  # fmt: skip
    label = {r: (repr(c) if isinstance(c, str) else f"#{c}") for r, c in m.columns().items()}
    skip = re.compile("(?m)" + "|".join(f"(?:{p})" for p in m.skip_if)) if m.skip_if else None
    for number, cells in rows:
        texts = [cell_text(c) for c in cells]
        if not any(texts) or (skip is not None and skip.search("\n".join(texts))):
            out.skipped += 1
            continue

        def get(role: str) -> object:
            i = index.get(role)
            return cells[i] if i is not None and i < len(cells) else None  # noqa: B023

        def text(role: str) -> str:
            return cell_text(get(role))

        why: list[str] = []
        address = text("address")
        if not address:
            why.append(f"no address in column {label['address']}")
        if len(address) > MAX_ADDRESS or not address.isprintable():
            why.append(f"column {label['address']}: {shown(address)}: too long or not printable")
        for role in ("premise", "cadastral", "fias"):
            bad = bad_identifier(text(role)) if role in index else None
            if bad:
                why.append(f"column {label[role]}: {shown(text(role))}: {bad}")
        area = None
        if "area" in index and text("area"):
            area = _decimal(get("area"), m.decimal)
            if area is None or not 0 < area <= MAX_AREA:
                why.append(
                    f"area {shown(text('area'))} in column {label['area']} is not a number in"
                    f" (0, {MAX_AREA}] m²"
                )
        counts: dict[str, int | None] = {"owners": None, "residents": None}
        for role in counts:
            if role in index and text(role):
                value = _decimal(get(role), m.decimal)
                if value is None or value != value.to_integral() or not 0 <= value <= MAX_COUNT:
                    why.append(
                        f"{role} {shown(text(role))} in column {label[role]} is not a whole"
                        f" number 0-{MAX_COUNT}"
                    )
                else:
                    counts[role] = int(value)
        if counts["owners"] is None and "owner_names" in index and text("owner_names"):
            counts["owners"] = len([n for n in _NAMES.split(text("owner_names")) if n.strip()])
        residential = None
        if "purpose" in index and text("purpose"):
            residential = m.residential(text("purpose"))
            if residential is None:
                why.append(
                    f"purpose {shown(text('purpose'))} in column {label['purpose']} is neither"
                    " residential nor non-residential (add it to the mapping's 'purposes')"
                )
        if why:
            out.problems.append((number, f"{file}, row {number}: {'; '.join(why)}"))
            continue
        out.rows.append(
            RegisterRow(
                line=number,
                address=address,
                premise=text("premise"),
                cadastral=text("cadastral") or None,
                fias=text("fias") or None,
                area=area,
                residential=residential,
                owners=counts["owners"],
                residents=counts["residents"],
                file=file,
            )
        )
    return out


def read_property_register(
    path: Path, m: PropertyMapping, *, on_fraction: Callable[[float], None] | None = None
) -> RegisterFile:
    """Reads a CSV or XLSX register (told by content); RegisterFileError if nothing can be.
    ``on_fraction`` is told the share of a CSV file read (0..1) now and then."""
    file = path.name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RegisterFileError(file, f"cannot read: {exc.strerror or exc}") from None
    if data.startswith(xlsxfile.ZIP_MAGIC):
        if m.format == "csv":
            raise RegisterFileError(file, f"mapping {m.name!r} is for CSV; this is a workbook")
        rows: Iterable[tuple[int, Sequence[object]]] = xlsxfile.read_rows(
            io.BytesIO(data), sheet=m.sheet, skip_rows=m.skip_rows, file=file
        )
    else:
        if m.format == "xlsx":
            raise RegisterFileError(file, f"mapping {m.name!r} is for XLSX; this is not one")
        try:
            rows, _, _ = csvfile.read_rows(
                data, encoding=m.encoding, delimiter=m.delimiter, skip_rows=m.skip_rows,
                file=file, on_fraction=on_fraction,
            )  # fmt: skip
        except csv.Error as exc:  # the delimiter sniffing reads lines with a stray \r
            raise RegisterFileError(file, f"CSV: {exc}") from None
    return read_rows(m, rows, file=file)
