"""The output of batch VEE: one found anomaly, on a meter or on a house."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.channels import SERVICES
from core.vee.codes import AnomalyType, Severity
from core.vee.fleet import Fleet

Evidence = dict[str, Any]
"""JSON-ready numbers, strings, booleans and lists that justify the verdict."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Anomaly:
    """What was found, where, when and why.

    type: stable code (:class:`core.vee.codes.AnomalyType`).
    service: the service (``cold_water``...) of the meter or of the house balance.
    meter / meter_index: the meter, for meter anomalies (None for a house anomaly).
    house / house_index: the meter's house, or the house of a balance anomaly (None: no house).
    start, end: UTC, end exclusive: the hours or days the anomaly covers.
    severity: :class:`core.vee.codes.Severity`.
    evidence: the figures behind the verdict (volumes, thresholds, counts).
    """

    type: AnomalyType
    service: str
    start: datetime
    end: datetime
    severity: Severity
    meter: str | None = None
    meter_index: int | None = None
    house: str | None = None
    house_index: int | None = None
    evidence: Evidence = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping (what ``uchet anomalies --json`` prints)."""
        return {
            "type": self.type.value,
            "service": self.service,
            "meter": self.meter,
            "house": self.house,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "severity": self.severity.name.lower(),
            "evidence": self.evidence,
        }


def meter_anomaly(
    fleet: Fleet,
    kind: AnomalyType,
    meter: int,
    first_column: int,
    end_column: int,
    severity: Severity,
    evidence: Evidence,
) -> Anomaly:
    """An anomaly of one meter covering register columns ``[first_column, end_column)``."""
    house = int(fleet.house[meter])
    return Anomaly(
        type=kind,
        service=SERVICES[int(fleet.service[meter])],
        start=fleet.hour_ts(first_column),
        end=fleet.hour_ts(end_column),
        severity=severity,
        meter=fleet.meter_name(meter),
        meter_index=meter,
        house=fleet.house_name(house) if house >= 0 else None,
        house_index=house if house >= 0 else None,
        evidence=evidence,
    )
