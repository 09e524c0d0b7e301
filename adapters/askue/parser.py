"""The 80020 (version 2) parser: hostile files in, exact values and located errors out.

A file is fatal (an :class:`AskueError` is raised) when it cannot be trusted as a whole: not
XML, too large, too slow, a DTD, not an 80020 message, no day/sender/number. A bad point,
channel, period or value only drops that part: the error is recorded in the result with the
point, channel, period and position, and every other value is kept.

The 80020 family is read: classes 80020, 80030 and 80040 share the structure. Channel codes
beyond 01..04 are read by the site's table or their ``desc`` (:mod:`adapters.askue.channels`);
the values of those that cannot be read so are kept in ``ParsedFile.unmapped``.

Times: the file's ``HHMM`` are wall-clock times of the area's zone: ``area/@timezone`` when it
names one (``1`` is Moscow time, see :mod:`adapters.askue.zones`), else the configured zone
(``tz``, by default Europe/Moscow, i.e. UCHET_TIMEZONE), converted with zoneinfo, so historic
offsets hold (Moscow UTC+3 in 2008 winters, UTC+4 2011-2014). ``<daylightsavingtime>``
(0/1/2) is kept in ``Header.dst`` but not used either: zoneinfo knows when the clocks
changed, and the ``summer="1"`` marker tells the two occurrences of the repeated hour apart.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.askue.errors import AskueError
from adapters.askue.handlers import DEFAULT_MAX_VALUE, Message
from adapters.askue.model import ParsedFile
from adapters.askue.reader import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT_S, feed, open_limited
from core.errors import ConfigError

DEFAULT_TZ = "Europe/Moscow"
DEFAULT_MAX_ERRORS = 100


def zone(tz: str) -> ZoneInfo:
    """The zone for an IANA name; ConfigError if there is none."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"unknown time zone {tz!r} (expected an IANA name such as Europe/Moscow)"
        ) from None


def parse_stream(
    stream: BinaryIO,
    file: str,
    *,
    tz: str = DEFAULT_TZ,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_errors: int = DEFAULT_MAX_ERRORS,
    fast: bool = True,
    max_value: Decimal = DEFAULT_MAX_VALUE,
    channels: Mapping[str, str] | None = None,
) -> ParsedFile:
    """Parses an 80020 file from a binary stream; ``file`` names it in errors.

    ``channels`` is the site's channel table (code -> 01..04, see
    :func:`adapters.askue.channels.table`).

    Times are local to ``tz`` (see :mod:`adapters.askue.timemap`); ``max_errors`` caps the
    errors kept in the result (all are counted); a value of a magnitude above ``max_value`` is
    an error of its period. Raises :class:`AskueError` if the file as a whole is unusable.
    """
    message = Message(file, zone(tz), max_errors, fast=fast, max_value=max_value, channels=channels)
    feed(stream, file, message, max_bytes=max_bytes, timeout_s=timeout_s, bind=message.bind)
    return message.finish(tz)


def parse_bytes(
    data: bytes,
    file: str = "<bytes>",
    *,
    tz: str = DEFAULT_TZ,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_errors: int = DEFAULT_MAX_ERRORS,
    fast: bool = True,
    max_value: Decimal = DEFAULT_MAX_VALUE,
    channels: Mapping[str, str] | None = None,
) -> ParsedFile:
    """Parses an 80020 file held in memory (see :func:`parse_stream`)."""
    return parse_stream(
        io.BytesIO(data),
        file,
        tz=tz,
        max_bytes=max_bytes,
        timeout_s=timeout_s,
        max_errors=max_errors,
        fast=fast,
        max_value=max_value,
        channels=channels,
    )


def parse_file(
    path: str | Path,
    *,
    tz: str = DEFAULT_TZ,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_errors: int = DEFAULT_MAX_ERRORS,
    max_value: Decimal = DEFAULT_MAX_VALUE,
) -> ParsedFile:
    """Parses one 80020 file (see :func:`parse_stream`); errors name it as ``str(path)``."""
    name = str(path)
    with open_limited(Path(path), name, max_bytes) as stream:
        return parse_stream(
            stream,
            name,
            tz=tz,
            max_bytes=max_bytes,
            timeout_s=timeout_s,
            max_errors=max_errors,
            max_value=max_value,
        )


def parse_files(
    paths: Iterable[str | Path],
    *,
    tz: str = DEFAULT_TZ,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    max_errors: int = DEFAULT_MAX_ERRORS,
    max_value: Decimal = DEFAULT_MAX_VALUE,
) -> Iterator[ParsedFile | AskueError]:
    """Parses files one by one; a file that fails yields its error and the next is read."""
    zone(tz)  # a bad zone is the caller's error, not every file's
    for path in paths:
        try:
            yield parse_file(
                path,
                tz=tz,
                max_bytes=max_bytes,
                timeout_s=timeout_s,
                max_errors=max_errors,
                max_value=max_value,
            )
        except AskueError as exc:
            yield exc


def latest(files: Iterable[ParsedFile]) -> list[ParsedFile]:
    """Per (sender, day), the file with the highest number: a correction supersedes the
    earlier files. In (sender, day) order."""
    best: dict[tuple[str, date], ParsedFile] = {}
    for f in files:
        held = best.get(f.key)
        if held is None or f.header.number > held.header.number:
            best[f.key] = f
    return [best[k] for k in sorted(best)]
