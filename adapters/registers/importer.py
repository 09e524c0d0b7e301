"""A register export as the intake sees it: read through a mapping into columns, and its report.

The import itself is :class:`ingest.register_import.RegisterImporter`.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.registers import csvfile, xlsfile, xlsxfile
from adapters.registers.errors import RegisterFileError
from adapters.registers.mapping import Mapping, header_key
from adapters.registers.table import Problem, Table, TableReader, bad_identifier, cell_text
from adapters.store.writer import QuarantineRow
from core.batch import to_us

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
LIST_LIMIT = 1000
"""Items listed in a report per list (problems, new meters); the counts are always complete."""
ROWS_LIMIT = 10_000
"""Row numbers listed per quarantine reason."""
FILE_PREFIX = "registers:"
"""``askue_files.sender_inn`` of register exports: ``registers:<mapping name>``."""


@dataclass(slots=True)
class RegisterReport:
    """What happened to one file; ``as_dict()`` is the report written beside it."""

    file: str
    mapping: str | None = None
    status: str = "imported"  # imported | already_imported | failed
    encoding: str | None = None
    delimiter: str | None = None
    rows: int = 0
    skipped_rows: int = 0
    empty_intervals: int = 0
    values: int = 0
    stored: int = 0
    duplicates: int = 0
    conflicts: int = 0
    quarantined: Counter[str] = field(default_factory=Counter)
    quarantined_rows: dict[str, list[int]] = field(default_factory=dict)
    already_quarantined: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    problem_count: int = 0
    new_meters: list[dict[str, Any]] = field(default_factory=list)
    new_meter_count: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "kind": "registers",
            "mapping": self.mapping,
            "status": self.status,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "rows": self.rows,
            "skipped_rows": self.skipped_rows,
            "empty_intervals": self.empty_intervals,
            "values": self.values,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "conflicts": self.conflicts,
            "quarantined": dict(self.quarantined),
            "quarantined_rows": self.quarantined_rows,
            "already_quarantined": self.already_quarantined,
            "problem_count": self.problem_count,
            "problems": self.problems,
            "new_meter_count": self.new_meter_count,
            "new_meters": self.new_meters,
            "error": self.error,
        }

    def summary(self) -> str:
        if self.status == "failed":
            return f"{self.file}: FAILED: {self.error}"
        if self.status == "already_imported":
            return f"{self.file}: already imported with mapping {self.mapping}, nothing changed"
        parts = [
            f"{self.rows} rows, {self.values} values",
            f"stored {self.stored}",
            f"duplicates {self.duplicates}",
        ]
        if self.conflicts:
            parts.append(f"conflicts {self.conflicts}")
        if self.empty_intervals:
            parts.append(f"intervals without values {self.empty_intervals}")
        for reason, rows in sorted(self.quarantined_rows.items()):
            shown = ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")
            parts.append(f"quarantined {reason} {self.quarantined[reason]} (rows {shown})")
        if self.already_quarantined:
            parts.append(f"already in quarantine {self.already_quarantined}")
        if self.new_meter_count:
            parts.append(f"new meters {self.new_meter_count}")
        return f"{self.file} (mapping {self.mapping}): " + ", ".join(parts)


def read_table(
    path: Path,
    mapping: Mapping,
    *,
    tz: str,
    max_bytes: int,
    on_fraction: Callable[[float], None] | None = None,
) -> tuple[Table, str, Any]:
    """Reads ``path`` through ``mapping``: the table, the file's sha256 and the CSV details.

    ``on_fraction(share)``: the share of a CSV file's text (an XLSX sheet's rows) read so far,
    every few thousand rows; Excel 97-2003 workbooks are not reported."""
    name = path.name
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise RegisterFileError(name, f"{size} bytes, larger than the limit of {max_bytes}")
        data = path.read_bytes()
    except OSError as exc:
        raise RegisterFileError(name, f"cannot read the file: {exc.strerror or exc}") from None
    digest = hashlib.sha256(data).hexdigest()
    reader = TableReader(mapping, tz=tz, file=name)
    legacy = data.startswith(xlsfile.OLE_MAGIC) or path.suffix.lower() == ".xls"
    workbook = data.startswith(xlsxfile.ZIP_MAGIC) or legacy
    if mapping.format == "xlsx" and not workbook:
        raise RegisterFileError(name, f"mapping {mapping.name!r} is for XLSX; this is not")
    if mapping.format == "csv" and workbook:
        raise RegisterFileError(name, f"mapping {mapping.name!r} is for CSV; this is a workbook")
    if workbook:

        def sheet_rows(sheet: str | int | None, skip: int) -> Iterator[tuple[int, Any]]:
            if legacy:  # Excel 97-2003: xlrd, or refused ("XLS is not supported, save as XLSX")
                return xlsfile.read_rows(data, sheet=sheet, skip_rows=skip, file=name)
            return xlsxfile.read_rows(
                io.BytesIO(data), sheet=sheet, skip_rows=skip, file=name, on_fraction=on_fraction
            )

        if mapping.meter_label is not None:
            serial = labelled_cell(sheet_rows(mapping.meter_sheet, 0), mapping, name)
            reader = TableReader(mapping, tz=tz, file=name, meter=serial)
        return reader.read(sheet_rows(mapping.sheet, mapping.skip_rows)), digest, (None, None)
    csv_rows, encoding, delimiter = csvfile.read_rows(
        data,
        encoding=mapping.encoding,
        delimiter=mapping.delimiter,
        skip_rows=mapping.skip_rows,
        file=name,
        on_fraction=on_fraction,
    )
    return reader.read(csv_rows), digest, (encoding, delimiter)


LABEL_ROWS = 60
"""Rows of a title block searched for a ``meter_label``."""


def labelled_cell(rows: Iterable[tuple[int, Any]], mapping: Mapping, file: str) -> str:
    """The first non-empty cell right of the cell reading ``mapping.meter_label``."""
    label = header_key(mapping.meter_label or "")
    for number, cells in rows:
        texts = [cell_text(c) for c in cells]
        for i, text in enumerate(texts):
            if header_key(text.rstrip(":")) == label:
                serial = next((t for t in texts[i + 1 :] if t), "")
                why = bad_identifier(serial) if serial else "no cell after it holds one"
                if why is None:
                    return serial
                raise RegisterFileError(
                    file, f"meter serial after {mapping.meter_label!r}: {why}", line=number
                )
        if number >= LABEL_ROWS:
            break
    raise RegisterFileError(
        file,
        f"mapping {mapping.name!r}: no cell reads {mapping.meter_label!r} in the first"
        f" {LABEL_ROWS} rows of sheet {mapping.meter_sheet or 1}: the meter is not known",
    )


def key_of(q: QuarantineRow) -> tuple[str | None, str | None, int, float] | None:
    try:
        doc = json.loads(q.payload)
        ts = to_us(datetime.fromisoformat(doc["ts"]))
        return q.meter, q.channel, ts, float(doc["value"])
    except (ValueError, KeyError, TypeError):
        return None


def problem_row(p: Problem, source: str) -> QuarantineRow:
    return QuarantineRow(source, p.reason, p.detail, p.meter, p.channel, p.payload)


def rows_of(table: Table, quarantine: list[QuarantineRow]) -> list[int]:
    """The file row of each quarantined reading (0 when it cannot be told)."""
    if not quarantine:
        return []
    keys = [key_of(q) for q in quarantine]
    wanted = set(keys)
    found: dict[object, list[int]] = {}
    cols = table.cols
    for i, element in enumerate(zip(cols.meter, cols.channel, cols.ts, cols.value, strict=True)):
        if element in wanted:
            found.setdefault(element, []).append(table.rows[i])
    rows = []
    for key in keys:
        candidates = found.get(key)
        rows.append(candidates.pop(0) if candidates else 0)
    return rows
