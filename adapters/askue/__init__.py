"""ASKUE export files, макет 80020 version 2: a hardened parser and the conversion to readings."""

from adapters.askue.errors import (
    AskueError,
    FileTooLargeError,
    ForbiddenXmlError,
    FormatError,
    NotXmlError,
    ParseTimeoutError,
    ReceiptStatus,
    UnknownChannelError,
)
from adapters.askue.model import Area, Header, ParsedFile, Period, Point, Series, ValueRow
from adapters.askue.parser import (
    DEFAULT_MAX_ERRORS,
    DEFAULT_TZ,
    latest,
    parse_bytes,
    parse_file,
    parse_files,
    parse_stream,
)
from adapters.askue.reader import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S
from adapters.askue.readings import CHANNEL_OBIS, to_readings

__all__ = [
    "CHANNEL_OBIS",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ERRORS",
    "DEFAULT_TIMEOUT_S",
    "DEFAULT_TZ",
    "Area",
    "AskueError",
    "FileTooLargeError",
    "ForbiddenXmlError",
    "FormatError",
    "Header",
    "NotXmlError",
    "ParseTimeoutError",
    "ParsedFile",
    "Period",
    "Point",
    "ReceiptStatus",
    "Series",
    "UnknownChannelError",
    "ValueRow",
    "latest",
    "parse_bytes",
    "parse_file",
    "parse_files",
    "parse_stream",
    "to_readings",
]
