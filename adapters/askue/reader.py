"""Hardened expat feeding: size limit, time bound, no DTD or entities, clear encoding errors.

80020 files never need a DTD, so any ``<!DOCTYPE`` or entity declaration is refused at its
first byte: that closes external entities (XXE), external DTDs and entity expansion
(billion laughs) before expat does any work for them. The file is fed in chunks so the size
limit and the time bound are checked as it is read, whatever ``stat`` said.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, NoReturn, Protocol
from xml.parsers import expat

from adapters.askue.errors import (
    FileTooLargeError,
    ForbiddenXmlError,
    NotXmlError,
    ParseTimeoutError,
)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
DEFAULT_TIMEOUT_S = 60.0
CHUNK_BYTES = 1 << 20

# Declared encoding (lower case) -> the name expat is given. 80020 files are windows-1251 or
# UTF-8; both are ASCII-compatible, which the error diagnosis below relies on.
ENCODINGS = {
    "windows-1251": "windows-1251",
    "cp1251": "windows-1251",
    "utf-8": "utf-8",
    "utf8": "utf-8",
}
_BOMS = {
    b"\xff\xfe": "UTF-16/32 (byte order mark FF FE)",
    b"\xfe\xff": "UTF-16 (byte order mark FE FF)",
    b"\x00\x00\xfe\xff": "UTF-32 (byte order mark)",
}
_UTF8_BOM = b"\xef\xbb\xbf"
_DECL = re.compile(rb"<\?xml[ \t\r\n][^>]{0,200}?\?>")
_ENCODING = re.compile(rb"""encoding[ \t\r\n]*=[ \t\r\n]*["']([^"']{0,40})["']""")
_TRUNCATION_CODES = frozenset(
    expat.errors.codes[m]
    for m in (
        expat.errors.XML_ERROR_NO_ELEMENTS,
        expat.errors.XML_ERROR_UNCLOSED_TOKEN,
        expat.errors.XML_ERROR_UNCLOSED_CDATA_SECTION,
        expat.errors.XML_ERROR_PARTIAL_CHAR,
    )
)
_INVALID_TOKEN = expat.errors.codes[expat.errors.XML_ERROR_INVALID_TOKEN]


class Handlers(Protocol):
    """What the reader feeds: element and text callbacks, and where parsing stands.

    Attributes arrive as expat's ordered list ``[name, value, name, value, ...]``.
    ``end`` and ``chars`` may be C callables (``list.append``): expat calls them ~10^6 times.
    """

    @property
    def start(self) -> Callable[[str, list[str]], None]: ...
    @property
    def end(self) -> Callable[[str], object]: ...
    @property
    def chars(self) -> Callable[[str], object]: ...

    def open_elements(self) -> str: ...


def declared_encoding(head: bytes, file: str) -> str:
    """The expat encoding name for a file starting with ``head``; NotXmlError if not allowed."""
    for bom, what in _BOMS.items():
        if head.startswith(bom):
            raise NotXmlError(file, f"encoded as {what}; 80020 files are windows-1251 or UTF-8")
    body = head[len(_UTF8_BOM) :] if head.startswith(_UTF8_BOM) else head
    stripped = body.lstrip(b" \t\r\n")
    if not stripped:
        raise NotXmlError(file, "the file is empty")
    if not stripped.startswith(b"<"):
        raise NotXmlError(file, f"not XML: the file starts with {stripped[:16]!r}")
    decl = _DECL.match(body)
    if decl is None:
        return "utf-8"  # XML's default when nothing is declared
    m = _ENCODING.search(decl.group(0))
    if m is None:
        return "utf-8"
    name = m.group(1).decode("ascii", "replace").strip().lower()
    if name not in ENCODINGS:
        raise NotXmlError(
            file,
            f"declared encoding {name!r} is not accepted; 80020 files are windows-1251 or UTF-8",
        )
    if head.startswith(_UTF8_BOM) and ENCODINGS[name] != "utf-8":
        raise NotXmlError(file, f"UTF-8 byte order mark but declared encoding {name!r}")
    return ENCODINGS[name]


def _refuse(file: str, what: str) -> Callable[..., NoReturn]:
    def handler(*_: object) -> NoReturn:
        raise ForbiddenXmlError(
            file,
            f"{what} refused: 80020 files never need one and they enable XXE and "
            "entity-expansion attacks",
        )

    return handler


def new_parser(file: str, encoding: str, handlers: Handlers) -> expat.XMLParserType:
    """An expat parser with DTDs and entities refused and the handlers attached."""
    p = expat.ParserCreate(encoding)
    p.buffer_text = True
    p.buffer_size = 1 << 16
    p.ordered_attributes = True
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    p.StartDoctypeDeclHandler = _refuse(file, "a DOCTYPE declaration")
    p.EntityDeclHandler = _refuse(file, "an entity declaration")
    p.UnparsedEntityDeclHandler = _refuse(file, "an entity declaration")
    p.ExternalEntityRefHandler = _refuse(file, "an external entity")
    p.StartElementHandler = handlers.start
    p.EndElementHandler = handlers.end
    p.CharacterDataHandler = handlers.chars
    return p


def feed(
    stream: BinaryIO,
    file: str,
    handlers: Handlers,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    chunk_bytes: int = CHUNK_BYTES,
    bind: Callable[[expat.XMLParserType], None] | None = None,
) -> None:
    """Feeds ``stream`` to ``handlers`` through a hardened expat parser (AskueError if refused).

    ``bind`` receives the parser before the first byte (the handlers read line numbers off it).
    """
    deadline = time.monotonic() + timeout_s
    chunk = stream.read(min(chunk_bytes, max_bytes + 1))
    encoding = declared_encoding(chunk[:512], file)
    parser = new_parser(file, encoding, handlers)
    if bind is not None:
        bind(parser)
    total = 0
    while chunk:
        total += len(chunk)
        if total > max_bytes:
            raise FileTooLargeError(file, f"larger than the limit of {max_bytes} bytes")
        try:
            parser.Parse(chunk, False)
        except expat.ExpatError as exc:
            _raise_not_xml(exc, parser, file, encoding, chunk, total - len(chunk), handlers)
        if time.monotonic() > deadline:
            raise ParseTimeoutError(
                file, f"parsing took longer than {timeout_s:g} s (read {total} bytes)"
            )
        chunk = stream.read(chunk_bytes)
    try:
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        _raise_not_xml(exc, parser, file, encoding, b"", total, handlers)


def _raise_not_xml(
    exc: expat.ExpatError,
    parser: expat.XMLParserType,
    file: str,
    encoding: str,
    chunk: bytes,
    chunk_offset: int,
    handlers: Handlers,
) -> NoReturn:
    line, column = exc.lineno, exc.offset + 1
    if exc.code in _TRUNCATION_CODES and not chunk:
        where = handlers.open_elements()
        raise NotXmlError(
            file,
            "the file ends before the XML is complete"
            + (f" (inside {where})" if where else "")
            + "; truncated?",
            line=line,
            column=column,
        ) from exc
    i = parser.ErrorByteIndex - chunk_offset
    if exc.code == _INVALID_TOKEN and 0 <= i < len(chunk) and chunk[i] == 0:
        raise NotXmlError(
            file,
            "a NUL byte (0x00): XML cannot hold one, so the file is not XML (corrupted, or "
            "binary data in it)",
            line=line,
            column=column,
        ) from exc
    if exc.code == _INVALID_TOKEN and encoding == "utf-8":
        i = parser.ErrorByteIndex - chunk_offset
        window = chunk[max(0, i - 3) : i + 4]
        if 0 <= i < len(chunk) and chunk[i] >= 0x80:
            try:
                window.decode("utf-8")
            except UnicodeDecodeError:
                raise NotXmlError(
                    file,
                    f"bytes {window!r} are not UTF-8, the encoding the file declares (or "
                    "implies, declaring none); windows-1251 files must say "
                    'encoding="windows-1251"',
                    line=line,
                    column=column,
                ) from exc
    raise NotXmlError(
        file, f"not well-formed XML: {expat.errors.messages[exc.code]}", line=line, column=column
    ) from exc


def open_limited(path: Path, file: str, max_bytes: int) -> BinaryIO:
    """Opens a file for reading, refusing it unread when ``stat`` already shows it too large."""
    try:
        size = os.stat(path).st_size
        if size > max_bytes:
            raise FileTooLargeError(
                file, f"{size} bytes, larger than the limit of {max_bytes} bytes"
            )
        return open(path, "rb")
    except OSError as exc:
        raise NotXmlError(file, f"cannot read the file: {exc.strerror or exc}") from exc
