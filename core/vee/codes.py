"""Stable codes of batch VEE: anomaly types, severities and estimation methods.

These strings and numbers are stored (``anomalies.type``, reading flags) and shown to
operators; never renumber or rename one, only add.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class AnomalyType(StrEnum):
    """What a batch detector found (``anomalies.type``)."""

    MISSING = "missing_data"
    """Expected hourly readings (register or interval) absent in the period."""
    SPIKE = "consumption_spike"
    """A day's consumption above median + k·MAD of the meter's recent days."""
    STUCK = "stuck_meter"
    """Zero consumption for ≥ N days while the house consumes."""
    REVERSE_FLOW = "reverse_flow"
    """Negative interval consumption on a channel that does not allow export."""
    ROLLBACK = "register_rollback"
    """The register decreased: not a rollover, not a meter replacement."""
    REPLACEMENT = "meter_replacement"
    """The register dropped to near zero and then counted normally: a new meter."""
    SUM_MISMATCH = "sum_check_mismatch"
    """Σ interval values differ from the register difference over the same span."""
    HOUSE_IMBALANCE = "house_imbalance"
    """ОДПУ consumption persistently above Σ premises: possible leak or unaccounted consumers."""
    HOUSE_NEGATIVE_IMBALANCE = "house_negative_imbalance"
    """Σ premises persistently above the ОДПУ: house meter under-registers or wrong bindings."""


DESCRIPTIONS: dict[AnomalyType, str] = {
    AnomalyType.MISSING: "missing readings",
    AnomalyType.SPIKE: "consumption spike",
    AnomalyType.STUCK: "stuck meter or zero consumption",
    AnomalyType.REVERSE_FLOW: "reverse flow",
    AnomalyType.ROLLBACK: "register rollback",
    AnomalyType.REPLACEMENT: "meter replacement (reset to near zero)",
    AnomalyType.SUM_MISMATCH: "interval sum differs from register difference",
    AnomalyType.HOUSE_IMBALANCE: "possible leak or unaccounted consumers",
    AnomalyType.HOUSE_NEGATIVE_IMBALANCE: "premises above the house meter",
}
"""One line an operator reads, per type (Russian UI text belongs to the API layer)."""


class Severity(IntEnum):
    """How urgently an operator should look; stored as the lower-case name."""

    INFO = 1
    WARNING = 2
    CRITICAL = 3


class EstimateMethod(IntEnum):
    """How a value in an estimated series was obtained (one byte per value).

    ``ACTUAL`` values are the caller's own and are never changed. The stored method code is
    the lower-case name (``linear``, ``same_day_type_average``).
    """

    ACTUAL = 0
    LINEAR = 1
    SAME_DAY_TYPE_AVERAGE = 2
    NOT_ESTIMATED = 3
