"""Small hand-made fleets for the VEE tests."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from core.channels import SERVICES
from core.vee import Fleet

START = datetime(2025, 3, 2, 21, tzinfo=UTC)  # 00:00 Moscow, Monday 3 March 2025


def fleet_of(
    register: list[list[float]] | np.ndarray,
    *,
    house: list[int] | None = None,
    service: str = "cold_water",
    odpu: list[bool] | None = None,
    digits: int = 5,
    interval: np.ndarray | None = None,
    export: list[bool] | None = None,
) -> Fleet:
    reg = np.asarray(register, dtype=float)
    m = reg.shape[0]
    return Fleet(
        start=START,
        register=reg,
        house=np.asarray(house if house is not None else [0] * m),
        service=np.full(m, SERVICES.index(service)),
        is_house_meter=np.asarray(odpu if odpu is not None else [False] * m),
        digits=np.full(m, digits),
        allows_export=np.asarray(export if export is not None else [False] * m),
        interval=interval,
    )


def steady_register(days: int, per_hour: float, *, start: float = 100.0) -> np.ndarray:
    """Register columns (24·days + 1) of a meter using ``per_hour`` every hour."""
    return start + per_hour * np.arange(24 * days + 1)
