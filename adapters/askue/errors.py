"""Errors of the 80020 parser, each carrying the 80021 receipt status it maps to.

UchetError
 └── PayloadError                   (core.errors; ``reason`` is a core.codes.Reason)
      └── AskueError                file, receipt, where (line, column, point, channel, period)
           ├── NotXmlError          4: not XML, truncated, undeclared or wrong encoding
           │    ├── ForbiddenXmlError   4: DTD, entity declarations (XXE, billion laughs)
           │    ├── FileTooLargeError   4: over the size limit, refused before parsing
           │    └── ParseTimeoutError   4: took longer than the time bound
           ├── FormatError          3: wrong root/class/version, header, periods, values
           │    ├── TimeOutOfRangeError     3: a day or time that cannot be placed in UTC
           │    ├── ValueTooLargeError      3: a value beyond the ceiling (``max_value``)
           │    └── InvalidIdentifierError  3: a point code with control characters, too long
           └── UnknownChannelError  2: a measuringchannel code other than 01..04
"""

from __future__ import annotations

from enum import IntEnum

from core.codes import Reason
from core.errors import PayloadError


class ReceiptStatus(IntEnum):
    """Status codes of the 80021 receipt (квитанция) answering an 80020 file."""

    ACCEPTED = 0
    ACCEPTED_NON_COMMERCIAL = 1
    REJECTED_UNKNOWN_CHANNELS = 2
    REJECTED_FORMAT = 3
    NOT_VALID_XML = 4


class AskueError(PayloadError):
    """An 80020 file, or a part of it, cannot be used; says where and which receipt applies.

    ``str()`` is ``"<file>: <where>: <what>"``; ``detail`` is the same without the file.
    """

    receipt: ReceiptStatus = ReceiptStatus.REJECTED_FORMAT
    default_reason: str = Reason.MALFORMED

    def __init__(
        self,
        file: str,
        message: str,
        *,
        line: int | None = None,
        column: int | None = None,
        point: str | None = None,
        channel: str | None = None,
        period: str | None = None,
    ) -> None:
        self.file = file
        self.message = message
        self.line = line
        self.column = column
        self.point = point
        self.channel = channel
        self.period = period
        where = []
        if point is not None:
            where.append(f"point {point}")
        if channel is not None:
            where.append(f"channel {channel}")
        if period is not None:
            where.append(f"period {period}")
        if line is not None:
            where.append(f"line {line} column {column}")
        detail = f"{', '.join(where)}: {message}" if where else message
        super().__init__(self.default_reason, detail)

    def __str__(self) -> str:
        return f"{self.file}: {self.detail}"

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only location must survive pickling (multiprocessing import workers).
        return (_rebuild, (type(self), self.file, self.message, self.location()))

    def location(self) -> dict[str, str | int]:
        """The known parts of where the error is, for JSON reports."""
        items = {
            "line": self.line,
            "column": self.column,
            "point": self.point,
            "channel": self.channel,
            "period": self.period,
        }
        return {k: v for k, v in items.items() if v is not None}


def _rebuild(
    cls: type[AskueError], file: str, message: str, where: dict[str, str | int]
) -> AskueError:
    return cls(file, message, **where)  # type: ignore[arg-type]


class NotXmlError(AskueError):
    """Not well-formed XML in an accepted encoding (truncated, binary, wrong encoding)."""

    receipt = ReceiptStatus.NOT_VALID_XML


class ForbiddenXmlError(NotXmlError):
    """XML features an 80020 file never needs and an attacker would: DTDs and entities."""


class FileTooLargeError(NotXmlError):
    """The file is over the size limit; it is refused unread."""


class ParseTimeoutError(NotXmlError):
    """Parsing took longer than the time bound."""


class FormatError(AskueError):
    """Well-formed XML that is not a valid 80020 message, or a bad period or value in it."""

    receipt = ReceiptStatus.REJECTED_FORMAT


class TimeOutOfRangeError(FormatError):
    """A day or time that cannot be represented in UTC (years 1 and 9999 near their edges)."""

    default_reason = Reason.TIMESTAMP_OUT_OF_RANGE


class ValueTooLargeError(FormatError):
    """A value whose magnitude is above the parser's ceiling: no meter measures it."""

    default_reason = Reason.VALUE_TOO_LARGE


class InvalidIdentifierError(FormatError):
    """A point code the store could not key readings by (control characters, too long)."""

    default_reason = Reason.INVALID_IDENTIFIER


class UnknownChannelError(AskueError):
    """A measuring channel code the parser does not know (80020 knows 01..04)."""

    receipt = ReceiptStatus.REJECTED_UNKNOWN_CHANNELS
    default_reason = Reason.UNKNOWN_CHANNEL
