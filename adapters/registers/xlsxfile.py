"""XLSX register exports, read with openpyxl in read-only mode (streamed, values not formulas).

Rows come out as ``(row number, cells)`` with Excel's row numbers; cells keep their types
(text, numbers, dates as ``datetime``). openpyxl parses the workbook's XML through defusedxml
when it is installed (it is a dependency of uchet), which refuses entity expansion attacks.
"""

from __future__ import annotations

import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from adapters.registers.errors import RegisterFileError

ZIP_MAGIC = b"PK\x03\x04"


def read_rows(
    source: Path | IO[bytes], *, sheet: str | int | None, skip_rows: int, file: str
) -> Iterator[tuple[int, tuple[object, ...]]]:
    """The rows of one sheet (the first, or ``sheet`` by name or 1-based index)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; irrelevant to values
            warnings.simplefilter("ignore")
            book = load_workbook(source, read_only=True, data_only=True)
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
                raise RegisterFileError(file, f"no sheet {sheet}: the workbook has {len(names)}")
            ws = book.worksheets[sheet - 1]
        elif sheet in names:
            ws = book[sheet]
        else:
            raise RegisterFileError(file, f"no sheet {sheet!r}; sheets: {', '.join(names)}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for number, cells in enumerate(ws.iter_rows(values_only=True), start=1):
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
