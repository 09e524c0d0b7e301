"""What parsing one 80020 file yields: its header, points, channels and exact interval values."""

from __future__ import annotations

import operator
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from itertools import repeat
from typing import NamedTuple

from adapters.askue.errors import AskueError, ReceiptStatus
from core.codes import Flag

POINT_KINDS_WITH_CHANNELS = ("measuringpoint", "accountpoint", "deliverypoint")
POINT_KINDS_WITHOUT_CHANNELS = ("deliverygroup", "peretok")


class Period(NamedTuple):
    """One interval of the file's day, as written (``HHMM`` local) and in UTC.

    ``flags`` is ``Flag.SUMMER_REPEAT`` for the repeated hour of a changeover day that the
    file marks ``summer="1"`` (its first, summer-time occurrence), else 0. A named tuple,
    not a dataclass: comparing and hashing ~10^6 of them stays in C.
    """

    start: str
    end: str
    summer: bool
    start_utc: datetime
    end_utc: datetime
    flags: int = 0

    @property
    def label(self) -> str:
        return f"{self.start}-{self.end}" + (" summer" if self.summer else "")


# One value of a channel: its period, the exact value (None: the period was sent empty)
# and its quality flags (core.codes.Flag bits).
ValueRow = tuple[Period, Decimal | None, int]


@dataclass(frozen=True, slots=True)
class Area:
    """An ``<area>``: the INN and name of the area, and its ``timezone`` attribute as written."""

    inn: str | None
    name: str | None
    timezone: str | None


@dataclass(frozen=True, slots=True)
class Point:
    """A metering point (``measuringpoint``...), delivery group or flow (``peretok``).

    ``code`` identifies it (the meter id of its readings); for a peretok it is
    ``"<codefrom>-<codeto>"``.
    """

    kind: str
    code: str
    name: str | None
    area_inn: str | None


@dataclass(frozen=True, slots=True)
class Series:
    """The values of one channel of one point, in file order, as three parallel columns.

    ``values[i]`` is None when period ``periods[i]`` was sent without a value. ``flags[i]``
    holds NON_COMMERCIAL (``status="1"``), MEASUREMENT_ERROR (``errofmeasuring`` or
    ``extendedstatus`` other than 0) and SUMMER_REPEAT (the marked repeated hour).
    ``channel`` is ``01``..``04`` (the quantity; ``code`` is the code as written), or None
    for a delivery group or peretok; in ``ParsedFile.unmapped`` it is the unknown code.
    ``attributes`` holds, for the rare values that have them, the value's attributes other
    than ``status`` (``errofmeasuring``, ``extendedstatus``, ``param1``..``param3``) as written.
    Columns rather than a tuple per value: a file holds up to ~10^6 values, and the garbage
    collector would walk every one of those tuples.
    """

    point: Point
    channel: str | None
    periods: tuple[Period, ...]
    values: tuple[Decimal | None, ...]
    flags: tuple[int, ...]
    attributes: dict[Period, dict[str, str]] = field(default_factory=dict)
    code: str | None = None
    """The channel code as written (zero-filled): ``11`` for a channel read as ``01``."""
    desc: str | None = None
    """The channel's ``desc`` as written."""
    how: str = "code"
    """How the channel was read (``code``, the table, the description) or why it was not."""

    def __post_init__(self) -> None:
        if not len(self.periods) == len(self.values) == len(self.flags):
            raise ValueError("Series columns differ in length")

    @property
    def rows(self) -> list[ValueRow]:
        """(period, value, flags) per period, in file order."""
        return list(zip(self.periods, self.values, self.flags, strict=True))

    @property
    def value_count(self) -> int:
        return len(self.values) - self.empty

    @property
    def empty(self) -> int:
        """Periods sent without a value. By identity: ``tuple.count(None)`` compares every
        Decimal with None through ``Decimal.__eq__`` (0.4 s for a 480k-value file)."""
        return sum(map(operator.is_, self.values, repeat(None)))


@dataclass(frozen=True, slots=True)
class Header:
    """The message header: who sent it, which day, its number (a higher one corrects)."""

    number: int
    sender_inn: str
    sender_name: str | None
    day: date
    created: datetime | None  # <timestamp>, converted to UTC
    dst: int | None  # <daylightsavingtime>: 0 winter, 1 summer, 2 changeover day
    areas: tuple[Area, ...]
    message_class: str = "80020"  # 80020, 80030 or 80040: one structure

    @property
    def area_inns(self) -> tuple[str, ...]:
        return tuple(a.inn for a in self.areas if a.inn)


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """A parsed file: the good values, and the errors of the parts that had to be dropped.

    ``errors`` holds at most the parser's ``max_errors``; ``error_count`` counts them all.
    """

    file: str
    tz: str
    header: Header
    series: tuple[Series, ...]
    errors: tuple[AskueError, ...] = ()
    error_count: int = 0
    warnings: tuple[str, ...] = ()
    unmapped: tuple[Series, ...] = ()
    """Channels whose quantity is not known (``Series.how`` says why): their values are read
    and quarantined ``unknown_channel``, never stored or dropped."""

    def values(self) -> Iterator[tuple[Series, ValueRow]]:
        """Every non-empty value with its series, in file order."""
        for s in self.series:
            for row in zip(s.periods, s.values, s.flags, strict=True):
                if row[1] is not None:
                    yield s, row

    @property
    def value_count(self) -> int:
        return sum(s.value_count for s in self.series)

    @property
    def unmapped_count(self) -> int:
        """Values of channels not read as one of 01..04 (quarantined by the importer)."""
        return sum(s.value_count for s in self.unmapped)

    @property
    def empty_count(self) -> int:
        """Periods present in the file without a value (``<value></value>``)."""
        return sum(s.empty for s in self.series)

    @property
    def non_commercial_count(self) -> int:
        nc = int(Flag.NON_COMMERCIAL)  # int & int: `int & Flag` builds an enum per value
        return sum(
            1
            for s in self.series
            if any(f & nc for f in s.flags)
            for v, f in zip(s.values, s.flags, strict=True)
            if v is not None and f & nc
        )

    @property
    def receipt(self) -> ReceiptStatus:
        """The 80021 status this file earns: the worst of its errors, else 1 or 0."""
        if self.unmapped:
            return max([ReceiptStatus.REJECTED_UNKNOWN_CHANNELS, *(e.receipt for e in self.errors)])
        if self.errors:
            return max(e.receipt for e in self.errors)
        if self.non_commercial_count:
            return ReceiptStatus.ACCEPTED_NON_COMMERCIAL
        return ReceiptStatus.ACCEPTED

    @property
    def key(self) -> tuple[str, date]:
        """(sender INN, day): files with the same key supersede by ``header.number``."""
        return (self.header.sender_inn, self.header.day)
