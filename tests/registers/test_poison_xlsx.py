"""Zip bombs and oversized workbooks: refused quickly, with bounded memory and a clear error.

The bombs are built by hand: a real workbook whose sheet is replaced by a deflate stream of
one compressed megabyte of rows repeated (a few hundred KiB on disk), with honest or lying
sizes in the ZIP headers."""

from __future__ import annotations

import io
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from adapters.registers import xlsxfile
from adapters.registers.errors import RegisterFileError
from adapters.registers.xlsxfile import WorkbookTooLargeError
from tests.registers.files import contractor_xlsx

MiB = 1 << 20
SHEET = "xl/worksheets/sheet1.xml"
HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheetData>"
)
TAIL = b"</sheetData></worksheet>"
ROW = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'


def _sheet_stream(megabytes: int) -> tuple[bytes, int, int]:
    """Raw deflate of HEAD + ``megabytes`` MiB of rows + TAIL: (data, crc32, inflated size)."""
    block = ROW * (MiB // len(ROW))
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = head.compress(HEAD) + head.flush(zlib.Z_FULL_FLUSH)
    body = zlib.compressobj(9, zlib.DEFLATED, -15)
    # a full flush ends on a byte boundary with no back-reference: the block can be repeated
    one = body.compress(block) + body.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    last = tail.compress(TAIL) + tail.flush()
    crc = zlib.crc32(HEAD)
    for _ in range(megabytes):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(TAIL, crc)
    size = len(HEAD) + megabytes * len(block) + len(TAIL)
    return first + one * megabytes + last, crc, size


def _zip(members: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A ZIP of raw-deflated members (name, data, crc, local size, central size)."""
    out, central = io.BytesIO(), []
    for name, data, crc, local_size, central_size in members:
        offset = out.tell()
        raw = name.encode()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(data),
                              local_size, len(raw), 0) + raw + data)  # fmt: skip
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21,
                                   crc, len(data), central_size, len(raw), 0, 0, 0, 0, 0,
                                   offset) + raw)  # fmt: skip
    start = out.tell()
    for c in central:
        out.write(c)
    size = out.tell() - start
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), size,
                          start, 0))  # fmt: skip
    return out.getvalue()


def _bomb(tmp_path: Path, megabytes: int, *, lie: Callable[[int], int] = lambda n: n) -> bytes:
    """A real workbook with its first sheet swapped for ``megabytes`` MiB of rows; ``lie``
    gives the size the headers declare."""
    real = contractor_xlsx(tmp_path / "real.xlsx", [("1", "ХВС", "W", date(2026, 3, 1), 1.0, "м3")])
    members = []
    with zipfile.ZipFile(real) as z:
        for info in z.infolist():
            if info.filename == SHEET:
                data, crc, size = _sheet_stream(megabytes)
            else:
                plain = z.read(info.filename)
                c = zlib.compressobj(9, zlib.DEFLATED, -15)
                data, crc, size = c.compress(plain) + c.flush(), zlib.crc32(plain), len(plain)
            members.append((info.filename, data, crc, lie(size) if info.filename == SHEET else size,
                            lie(size) if info.filename == SHEET else size))  # fmt: skip
    return _zip(members)


def _read(data: bytes, **kw: int) -> list[tuple[int, tuple[object, ...]]]:
    rows = xlsxfile.read_rows(io.BytesIO(data), sheet=None, skip_rows=0, file="bomb.xlsx", **kw)
    return list(rows)


def _refused(data: bytes, **kw: int) -> tuple[RegisterFileError, float, int]:
    tracemalloc.start()
    t = time.perf_counter()
    try:
        with pytest.raises(RegisterFileError) as info:
            _read(data, **kw)
        elapsed = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return info.value, elapsed, peak


def test_the_bomb_builder_makes_a_readable_workbook(tmp_path: Path) -> None:
    data = _bomb(tmp_path, 1)
    rows = _read(data)
    assert len(rows) == MiB // len(ROW) and rows[0] == (1, ("x",))


def test_a_sheet_inflating_to_300_mib_is_refused_by_its_directory(tmp_path: Path) -> None:
    data = _bomb(tmp_path, 300)
    assert len(data) < 2 * MiB
    exc, elapsed, peak = _refused(data)
    assert isinstance(exc, WorkbookTooLargeError)
    assert "inflates to 314,5" in str(exc) and SHEET in str(exc)
    assert "more than the limit of 33,554,432 bytes" in str(exc)
    assert elapsed < 1.0 and peak < 20 * MiB


def test_headers_that_lie_about_the_size_do_not_buy_more_work(tmp_path: Path) -> None:
    data = _bomb(tmp_path, 300, lie=lambda n: 4096)  # the headers say 4 KiB
    exc, elapsed, peak = _refused(data)
    assert "bomb.xlsx" in str(exc)
    assert elapsed < 2.0 and peak < 20 * MiB


def test_a_member_inflating_past_the_limit_while_read_is_stopped(tmp_path: Path) -> None:
    # inside the limit as declared (8 MiB): the stream count stops it past the 4 MiB bound
    data = _bomb(tmp_path, 8, lie=lambda n: n)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        budget = xlsxfile._Budget(z, "bomb.xlsx", 4 * MiB)
        with budget.open(SHEET) as stream, pytest.raises(WorkbookTooLargeError) as info:
            stream.read()
    assert f"{SHEET} inflates past the limit of 4,194,304 bytes" in str(info.value)


def test_bounds_are_options(tmp_path: Path) -> None:
    data = _bomb(tmp_path, 2)
    exc, _, _ = _refused(data, max_unzipped_bytes=MiB)
    assert "more than the limit of 1,048,576 bytes" in str(exc)
    t = time.perf_counter()
    with pytest.raises(WorkbookTooLargeError) as info:
        _read(data, max_rows=1000)
    assert info.value.line == 1001 and "more than 1,000 rows" in str(info.value)
    assert time.perf_counter() - t < 5.0


def test_columns_past_the_bound_are_not_read(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(list(range(1, 301)))
    path = tmp_path / "wide.xlsx"
    book.save(path)
    [(_, cells)] = list(
        xlsxfile.read_rows(path, sheet=None, skip_rows=0, file="wide.xlsx", max_columns=10)
    )
    assert cells == tuple(range(1, 11))
