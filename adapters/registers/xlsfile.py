"""Legacy Excel 97-2003 (``.xls``, BIFF in an OLE2 container) register exports, read with xlrd.

xlrd (2.x reads only ``.xls``) parses the binary workbook itself: no XML, no macros run,
formulas come as their cached values. Rows come out like :mod:`adapters.registers.xlsxfile`
gives them: ``(Excel row number, cells)`` with numbers as floats, dates as ``datetime`` (a
cell formatted as a date), text as ``str`` and empty cells as ``None``. Where xlrd is not
installed the file is refused with "XLS is not supported, save as XLSX". The size of the file
is bounded before (``max_bytes`` of the importer); rows and columns as for XLSX.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from adapters.registers.errors import RegisterFileError
from adapters.registers.xlsxfile import (
    MAX_COLUMNS,
    MAX_ROWS,
    NoSheetError,
    WorkbookTooLargeError,
)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
"""An OLE2 compound file: Excel 97-2003 workbooks (and Word/other Office 97 files)."""
NOT_SUPPORTED = "XLS is not supported, save as XLSX"


def _xlrd() -> Any:
    try:
        import xlrd
    except ImportError:
        return None
    return xlrd


def supported() -> bool:
    """Whether ``.xls`` workbooks can be read here (xlrd is installed)."""
    return _xlrd() is not None


def read_rows(
    data: bytes,
    *,
    sheet: str | int | None,
    skip_rows: int,
    file: str,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
) -> Iterator[tuple[int, tuple[object, ...]]]:
    """The rows of one sheet (the first, or ``sheet`` by name or 1-based index)."""
    xlrd = _xlrd()
    if xlrd is None:
        raise RegisterFileError(file, f"{NOT_SUPPORTED} (Excel 97-2003 workbook)")
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
    except Exception as exc:  # xlrd fails on broken files in many ways: say which
        raise RegisterFileError(
            file, f"not a readable XLS workbook: {type(exc).__name__}: {exc}"
        ) from None
    try:
        names = book.sheet_names()
        if sheet is None:
            index = 0
        elif isinstance(sheet, int):
            if not 1 <= sheet <= len(names):
                raise NoSheetError(file, f"no sheet {sheet}: the workbook has {len(names)}")
            index = sheet - 1
        elif sheet in names:
            index = names.index(sheet)
        else:
            raise NoSheetError(file, f"no sheet {sheet!r}; sheets: {', '.join(names)}")
        ws = book.sheet_by_index(index)
        if ws.nrows > max_rows:
            raise WorkbookTooLargeError(file, f"more than {max_rows:,} rows, the limit")
        width = min(ws.ncols, max_columns)
        for r in range(ws.nrows):
            number = r + 1
            if number <= skip_rows:
                continue
            cells = []
            for c in range(min(width, ws.row_len(r))):
                cell = ws.cell(r, c)
                cells.append(_value(xlrd, cell, book.datemode))
            yield number, tuple(cells)
    except RegisterFileError:
        raise
    except Exception as exc:  # a broken sheet, whatever xlrd raised for it
        raise RegisterFileError(file, f"broken XLS workbook: {type(exc).__name__}: {exc}") from None
    finally:
        book.release_resources()


def _value(xlrd: Any, cell: Any, datemode: int) -> object:
    kind = cell.ctype
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if kind == xlrd.XL_CELL_DATE:
        try:
            value: datetime = xlrd.xldate_as_datetime(cell.value, datemode)
            return value
        except Exception:  # a date cell xlrd cannot place: its number, as written
            return cell.value
    if kind == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if kind == xlrd.XL_CELL_ERROR:
        return f"#ERROR {cell.value}"
    return cell.value
