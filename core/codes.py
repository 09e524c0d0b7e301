"""Stable machine-readable codes: quarantine reasons and reading quality flags.

These strings and bit values are stored in the database and shown to operators; never
renumber or rename one, only add.
"""

from __future__ import annotations

from enum import IntFlag, StrEnum


class Reason(StrEnum):
    """Why a reading was quarantined (``quarantine.reason``)."""

    MALFORMED = "malformed"
    UNKNOWN_UNIT = "unknown_unit"
    UNKNOWN_CHANNEL = "unknown_channel"
    UNKNOWN_METER = "unknown_meter"
    NEGATIVE_VALUE = "negative_value"
    FUTURE_TIMESTAMP = "future_timestamp"
    TOO_OLD = "too_old"
    REGISTER_ROLLBACK = "register_rollback"
    METER_MISMATCH = "meter_mismatch"
    TIMESTAMP_OUT_OF_RANGE = "timestamp_out_of_range"  # not representable (year 1, 9999, overflow)
    INVALID_IDENTIFIER = "invalid_identifier"  # meter/channel with NUL, control chars, too long
    VALUE_TOO_LARGE = "value_too_large"  # beyond the register capacity or the value ceiling
    STORE_REFUSED = "store_refused"  # the database refused the row itself (isolated by bisection)
    NO_READING = "no_reading"  # a message on a subscribed topic with no value to store


class Flag(IntFlag):
    """Quality flags of a stored reading (``readings.flags``, a bit set)."""

    NONE = 0
    ROLLOVER = 1
    IMPLAUSIBLE_RATE = 2
    OUT_OF_ORDER = 4
    ESTIMATED = 8
    NON_COMMERCIAL = 16  # 80020 status 1: not usable for settlement
    SUMMER_REPEAT = 32  # 80020 changeover day, the repeated hour
    MEASUREMENT_ERROR = 64  # 80020 errofmeasuring / extendedstatus
    SUPERSEDED = 128  # replaced by a later correction file
    MANUAL = 256  # entered by a person (resident, operator)
    EXCLUDED = 512  # excluded by an operator (kept, not billed; who and why in reading_exclusions)


def flag_names(flags: int) -> list[str]:
    """The names of the set bits, lower-case, for reports and JSON."""
    return [f.name.lower() for f in Flag if f.value and flags & f.value and f.name]
