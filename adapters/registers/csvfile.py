"""CSV register exports: encoding (UTF-8 or windows-1251) and delimiter found from the content.

Rows come out as ``(row number, cells)``, the row number being the file's line where the row
starts (what a person sees in an editor), so reports can point at it.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable, Iterator

from adapters.registers.errors import RegisterFileError

DELIMITERS = (";", "\t", ",", "|")
"""Candidates in order of preference on a tie (semicolon: what Russian Excel writes)."""

SNIFF_LINES = 30
PROGRESS_ROWS = 5_000
"""Rows between two reports of the share of the file read (``on_fraction``)."""
BINARY_SNIFF_CHARS = 4096
_BOM = b"\xef\xbb\xbf"


def decode(data: bytes, encoding: str, *, file: str) -> tuple[str, str]:
    """The text of ``data`` and the encoding used (``auto``: UTF-8 if valid, else cp1251)."""
    if data.startswith(_BOM):
        data, encoding = data[len(_BOM) :], "utf-8"
    elif encoding == "auto":
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            encoding = "windows-1251"
    try:
        return data.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RegisterFileError(
            file, f"byte 0x{data[exc.start]:02x} is not {encoding} text", line=line
        ) from None


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter that splits the sample lines into the same number (> 1) of cells most often.

    Quoted cells are honoured, so a decimal comma inside quotes does not count as a delimiter.
    """
    best, best_score = DELIMITERS[0], (0.0, 0)
    for delimiter in DELIMITERS:
        try:
            widths = [len(row) for row in csv.reader(lines, delimiter=delimiter) if any(row)]
        except csv.Error:  # e.g. a stray \r inside a line: reading the rows will name it
            continue
        if not widths:
            continue
        width, count = Counter(widths).most_common(1)[0]
        if width < 2:
            continue
        score = (count / len(widths), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def read_rows(
    data: bytes,
    *,
    encoding: str,
    delimiter: str,
    skip_rows: int,
    file: str,
    on_fraction: Callable[[float], None] | None = None,
) -> tuple[Iterator[tuple[int, list[str]]], str, str]:
    """The rows of a CSV file after the first ``skip_rows`` lines, the encoding and delimiter.

    ``on_fraction(share)`` is told the share of the text read (0..1) every
    :data:`PROGRESS_ROWS` rows and once at the end.
    """
    text, used = decode(data, encoding, file=file)
    start_text = text[:BINARY_SNIFF_CHARS]
    if start_text.count("\x00") * 10 > len(start_text):
        # UTF-16 text or a binary file; a stray NUL is a bad cell of its row (quarantined)
        raise RegisterFileError(
            file,
            "NUL bytes all through its start: not a text (CSV) file in UTF-8 or"
            " windows-1251 (UTF-16? save it as UTF-8)",
        )
    start = 0
    for _ in range(skip_rows):  # lines as csv counts them (\n), not str.splitlines
        nl = text.find("\n", start)
        start = len(text) if nl < 0 else nl + 1
    body = text[start:]
    if delimiter == "auto":
        sample = [line for line in body.split("\n", SNIFF_LINES)[:SNIFF_LINES] if line.strip()]
        delimiter = sniff_delimiter(sample)

    def rows() -> Iterator[tuple[int, list[str]]]:
        buffer = io.StringIO(body, newline="")
        reader = csv.reader(buffer, delimiter=delimiter)
        line = skip_rows
        size = max(len(body), 1)
        try:
            for k, cells in enumerate(reader, start=1):
                yield line + 1, cells
                line = skip_rows + reader.line_num
                if on_fraction is not None and k % PROGRESS_ROWS == 0:
                    on_fraction(buffer.tell() / size)
        except csv.Error as exc:
            raise RegisterFileError(file, f"CSV: {exc}", line=line + 1) from None
        if on_fraction is not None:
            on_fraction(1.0)

    return rows(), used, delimiter
