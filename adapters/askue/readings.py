"""Parsed 80020 values to :class:`core.reading.Reading` (interval readings, source ``askue``)."""

from __future__ import annotations

from collections.abc import Iterator

from adapters.askue.model import ParsedFile
from core.reading import Kind, Reading

# 80020 channel code -> OBIS: A+ / A- (kWh), R+ / R- (kvarh). Groups and peretok carry
# active energy and have no channel.
CHANNEL_OBIS = {
    "01": "1-0:1.8.0",
    "02": "1-0:2.8.0",
    "03": "1-0:3.8.0",
    "04": "1-0:4.8.0",
    None: "1-0:1.8.0",
}
SOURCE = "askue"


def iter_readings(parsed: ParsedFile) -> Iterator[Reading]:
    """One interval reading per non-empty value; meter = point code, ts = interval start."""
    for series in parsed.series:
        meter = series.point.code
        channel = CHANNEL_OBIS[series.channel]
        for period, value, flags in zip(series.periods, series.values, series.flags, strict=True):
            if value is None:
                continue
            yield Reading(
                meter=meter,
                channel=channel,
                ts=period.start_utc,
                value=float(value),
                kind=Kind.INTERVAL,
                source=SOURCE,
                flags=flags,
                end=period.end_utc,
            )


def to_readings(parsed: ParsedFile) -> list[Reading]:
    """The file's values as readings (exact Decimals become floats only here)."""
    return list(iter_readings(parsed))
