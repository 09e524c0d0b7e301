"""Which importer a file goes to: 80020 XML to the ASKUE importer, CSV/XLSX register exports
to the register importer with the mapping named for it or the one its header fits.
"""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path
from typing import Literal

from adapters.registers import csvfile, xlsfile, xlsxfile
from adapters.registers.errors import RegisterFileError
from adapters.registers.mapping import Mapping, available_mappings, header_key, mapping_dirs
from adapters.registers.table import cell_text

log = logging.getLogger(__name__)

HEAD_BYTES = 64 * 1024
HEAD_ROWS = 40
HEAD_MAX_WORKBOOK = 50 * 1024 * 1024
"""A workbook larger than this is not opened to find its mapping (the import limit too)."""
REGISTER_SUFFIXES = frozenset({".csv", ".tsv", ".xlsx", ".xlsm", ".xls"})

FileKind = Literal["askue", "csv", "xlsx", "xls"]
Head = list[tuple[int, list[object]]]


def file_kind(path: Path, head: bytes) -> FileKind:
    """By content first (a ZIP is a workbook, an OLE2 file an Excel 97-2003 one, ``<`` opens
    XML), then by the name. A legacy workbook is never read as CSV."""
    if head.startswith(xlsxfile.ZIP_MAGIC):
        return "xlsx"
    if head.startswith(xlsfile.OLE_MAGIC) or path.suffix.lower() == ".xls":
        return "xls"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"<"):
        return "askue"
    if path.suffix.lower() == ".xml":
        return "askue"  # not XML inside: the 80020 importer says what is wrong with it
    return "csv"


def _head_rows(path: Path, kind: FileKind, mapping: Mapping, cache: dict[object, Head]) -> Head:
    """The first rows of the file as ``mapping`` would read them (cached per reading)."""
    if kind in ("xlsx", "xls"):
        key: object = (kind, mapping.sheet)
        if key not in cache:
            rows = []
            size = path.stat().st_size
            if size > HEAD_MAX_WORKBOOK:
                raise RegisterFileError(
                    path.name, f"{size} bytes, larger than the limit of {HEAD_MAX_WORKBOOK}"
                )
            # from bytes: openpyxl refuses a path whose name does not end in .xlsx
            data = path.read_bytes()
            read = (
                xlsxfile.read_rows(
                    io.BytesIO(data), sheet=mapping.sheet, skip_rows=0, file=path.name
                )
                if kind == "xlsx"
                else xlsfile.read_rows(data, sheet=mapping.sheet, skip_rows=0, file=path.name)
            )
            for number, cells in read:
                rows.append((number, list(cells)))
                if number >= HEAD_ROWS:
                    break
            cache[key] = rows
        return [r for r in cache[key] if r[0] > mapping.skip_rows]
    key = ("csv", mapping.encoding, mapping.delimiter, mapping.skip_rows)
    if key not in cache:
        with path.open("rb") as f:
            head = f.read(HEAD_BYTES)
        if len(head) == HEAD_BYTES:
            head = head[: head.rfind(b"\n") + 1]  # whole lines only
        rows_iter, _, _ = csvfile.read_rows(
            head,
            encoding=mapping.encoding,
            delimiter=mapping.delimiter,
            skip_rows=mapping.skip_rows,
            file=path.name,
        )
        cache[key] = [(n, list(c)) for n, c in rows_iter]
    return cache[key]


def _fit(rows: Head, mapping: Mapping) -> tuple[int, str]:
    """How well the head of a file fits ``mapping``: (score, why not); score 0 = no fit."""
    text = "\n".join(";".join(cell_text(c) for c in cells) for _, cells in rows)
    if mapping.detect is not None and not re.search(mapping.detect, text):
        return 0, f"no match for {mapping.detect!r}"
    named = mapping.named_columns()
    if not mapping.header or not named:
        return (1, "") if mapping.detect is not None else (0, "headerless: name it")
    header = next((cells for _, cells in rows if any(cell_text(c) for c in cells)), [])
    have = {header_key(cell_text(c)) for c in header}
    missing = named - have
    if missing:
        return 0, f"missing {', '.join(sorted(missing))}"
    return len(named) + (1 if mapping.detect else 0), ""


def detect_mapping(path: Path, kind: FileKind, mappings: dict[str, Mapping]) -> Mapping:
    """The one mapping whose columns the file's header has (the most columns wins)."""
    cache: dict[object, Head] = {}
    scored: list[tuple[int, str]] = []
    why: list[str] = []
    if kind == "xls" and not xlsfile.supported():
        raise RegisterFileError(path.name, f"{xlsfile.NOT_SUPPORTED} (Excel 97-2003 workbook)")
    # a legacy workbook is read like a current one: the same mappings
    fmt = "xlsx" if kind == "xls" else kind
    for name, mapping in sorted(mappings.items()):
        if mapping.format not in (fmt, "any"):
            continue
        try:
            score, reason = _fit(_head_rows(path, kind, mapping, cache), mapping)
        except RegisterFileError as exc:
            if kind in ("xlsx", "xls") and not isinstance(exc, xlsxfile.NoSheetError):
                raise  # the workbook itself is unreadable: no mapping will do
            score, reason = 0, exc.detail
        if score:
            scored.append((score, name))
        else:
            why.append(f"{name} ({reason})")
    if (
        not scored
        and kind in ("xlsx", "xls")
        and not any(
            any(cell_text(c) for c in cells) for rows in cache.values() for _, cells in rows
        )
    ):
        raise RegisterFileError(path.name, "the workbook's sheet is empty: nothing to import")
    if not scored:
        raise RegisterFileError(
            path.name,
            f"no {kind} mapping fits this file: {'; '.join(why) or 'none known'};"
            " name one with --mapping NAME|FILE",
        )
    scored.sort(reverse=True)
    if len(scored) > 1 and scored[0][0] == scored[1][0]:
        tied = sorted(n for s, n in scored if s == scored[0][0])
        raise RegisterFileError(
            path.name, f"several mappings fit: {', '.join(tied)}; name one with --mapping"
        )
    return mappings[scored[0][1]]


def route(path: Path, *, mapping: Mapping | None, home: Path | None) -> Mapping | None:
    """The mapping a file is read through; None for an 80020 file (XML)."""
    try:
        with path.open("rb") as f:
            head = f.read(512)
    except OSError:
        head = b""  # the importer names the problem
    kind = file_kind(path, head)
    if kind == "askue" and mapping is None:
        return None
    if mapping is not None:
        return mapping
    found = detect_mapping(path, kind, available_mappings(mapping_dirs(home)))
    log.info("%s: mapping %s", path.name, found.name)
    return found
