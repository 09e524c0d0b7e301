"""XLSX register exports, read with openpyxl in read-only mode (streamed, values not formulas).

Rows come out as ``(row number, cells)`` with Excel's row numbers; cells keep their types
(text, numbers, dates as ``datetime``). openpyxl parses the workbook's XML through defusedxml
when it is installed (it is a dependency of uchet), which refuses entity expansion attacks.

A workbook is a ZIP archive, so a small file can inflate to gigabytes (a zip bomb). Before
openpyxl sees it, the central directory is checked: at most ``MAX_MEMBERS`` members and
``max_unzipped_bytes`` in all, as declared. Headers can lie, so the sheet is also counted as
it is inflated, and reading stops at the same bound; past ``max_rows`` rows the file is
refused, and only the first ``max_columns`` columns are read. Each bound fails the file with
a :class:`RegisterFileError` saying which limit it passed.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from adapters.registers.csvfile import PROGRESS_ROWS
from adapters.registers.errors import RegisterFileError

ZIP_MAGIC = b"PK\x03\x04"
MAX_UNZIPPED_BYTES = 32 * 1024 * 1024
"""All the members of a workbook together, inflated. A 100,000-row export of ten columns is
~15-25 MiB; openpyxl reads ~1-2 MiB of sheet a second (twice when the sheet declares no
dimension), so the bound also bounds the time a workbook can take (~30 s)."""
MAX_ROWS = 200_000
MAX_COLUMNS = 256
MAX_MEMBERS = 10_000
_STEP = 1 << 20
"""A workbook has a few dozen members (sheets, styles, strings, relationships)."""


class NoSheetError(RegisterFileError):
    """The workbook has no sheet of the name or number a mapping asks for."""


class WorkbookTooLargeError(RegisterFileError):
    """The workbook passes a bound on its inflated size, members, or rows."""


def check_archive(source: Path | IO[bytes], *, file: str, max_unzipped_bytes: int) -> None:
    """Refuses a ZIP whose central directory declares too many members or too many bytes."""
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise RegisterFileError(file, f"not a readable XLSX workbook: {exc}") from None
    finally:
        if not isinstance(source, Path):
            source.seek(0)
    if len(members) > MAX_MEMBERS:
        raise WorkbookTooLargeError(
            file, f"the workbook has {len(members)} members, more than {MAX_MEMBERS}"
        )
    total = sum(m.file_size for m in members)
    if total > max_unzipped_bytes:
        biggest = max(members, key=lambda m: m.file_size)
        raise WorkbookTooLargeError(
            file,
            f"the workbook inflates to {total:,} bytes ({biggest.filename}: "
            f"{biggest.file_size:,}), more than the limit of {max_unzipped_bytes:,} bytes",
        )


class _Counted:
    """A member stream that counts what it inflates and stops past the limit."""

    def __init__(self, stream: IO[bytes], budget: _Budget, name: str) -> None:
        self.stream, self.budget, self.name, self.read_bytes = stream, budget, name, 0

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:  # all of it, in bounded steps: the limit is checked as it grows
            parts = []
            while part := self.read(_STEP):
                parts.append(part)
            return b"".join(parts)
        data = self.stream.read(min(n, _STEP))
        self.read_bytes += len(data)
        if self.read_bytes > self.budget.limit:
            raise WorkbookTooLargeError(
                self.budget.file,
                f"{self.name} inflates past the limit of {self.budget.limit:,} bytes"
                " (more than its header declares)",
            )
        return data

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self.stream.close()

    def __enter__(self) -> _Counted:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class _Budget:
    """openpyxl's archive, counting what each member it opens inflates to: no member may
    inflate to more than the limit, whatever its header says (a sheet is read twice: for
    its dimensions, then its rows)."""

    def __init__(self, archive: zipfile.ZipFile, file: str, limit: int) -> None:
        self.archive, self.file, self.limit = archive, file, limit

    def open(self, name: str, *args: Any, **kwargs: Any) -> _Counted:
        return _Counted(self.archive.open(name, *args, **kwargs), self, name)

    def read(self, name: str) -> bytes:
        with self.open(name) as stream:
            return stream.read()

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.archive, attr)


def read_rows(
    source: Path | IO[bytes],
    *,
    sheet: str | int | None,
    skip_rows: int,
    file: str,
    max_unzipped_bytes: int = MAX_UNZIPPED_BYTES,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
    on_fraction: Callable[[float], None] | None = None,
) -> Iterator[tuple[int, tuple[object, ...]]]:
    """The rows of one sheet (the first, or ``sheet`` by name or 1-based index), each with at
    most ``max_columns`` cells; WorkbookTooLargeError past the bounds (see the module).

    ``on_fraction(share)``: the share of the sheet's declared rows read, every
    :data:`~adapters.registers.csvfile.PROGRESS_ROWS` rows (none when it declares no size)."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.utils.exceptions import InvalidFileException

    check_archive(source, file=file, max_unzipped_bytes=max_unzipped_bytes)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; irrelevant to values
            warnings.simplefilter("ignore")
            # load_workbook, with every member it inflates counted from the first byte
            reader = ExcelReader(source, read_only=True, data_only=True)
            reader.archive = _Budget(reader.archive, file, max_unzipped_bytes)
            reader.read()
            book = reader.wb
    except RegisterFileError:
        raise
    except (InvalidFileException, zipfile.BadZipFile, OSError) as exc:
        raise RegisterFileError(file, f"not a readable XLSX workbook: {exc}") from None
    except Exception as exc:  # openpyxl fails on broken workbooks in many ways: say which
        raise RegisterFileError(
            file, f"broken XLSX workbook: {type(exc).__name__}: {exc}"
        ) from None
    try:
        names = book.sheetnames
        if sheet is None:
            ws = book.worksheets[0]
        elif isinstance(sheet, int):
            if not 1 <= sheet <= len(names):
                raise NoSheetError(file, f"no sheet {sheet}: the workbook has {len(names)}")
            ws = book.worksheets[sheet - 1]
        elif sheet in names:
            ws = book[sheet]
        else:
            raise NoSheetError(file, f"no sheet {sheet!r}; sheets: {', '.join(names)}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # openpyxl pads every row to the width the sheet declares: never past the bound
            # (no declared width: each row is as wide as its last cell, cut below)
            width = min(ws.max_column, max_columns) if ws.max_column else None
            rows = ws.iter_rows(values_only=True, max_col=width, max_row=max_rows + 1)
            declared = ws.max_row or 0
            tell = on_fraction if declared else None
            for number, cells in enumerate(rows, start=1):
                if tell is not None and number % PROGRESS_ROWS == 0:
                    tell(min(number / declared, 1.0))
                if len(cells) > max_columns:
                    cells = cells[:max_columns]
                if number > max_rows:
                    raise WorkbookTooLargeError(
                        file, f"more than {max_rows:,} rows, the limit", line=number
                    )
                if number > skip_rows:
                    yield number, cells
    except RegisterFileError:
        raise
    except Exception as exc:  # as above: a broken sheet, whatever openpyxl raised for it
        raise RegisterFileError(
            file, f"broken XLSX workbook: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        book.close()
