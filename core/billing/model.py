"""The billing input and result as arrays: what a loader (JSON case or database) builds for `bill`.

Quantities are exact decimals held as integer arrays with a decimal scale (:class:`Fixed`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Final

import numpy as np
import numpy.typing as npt

Int64Array = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

SERVICES: Final = ("cold_water", "hot_water", "sewage", "electricity", "gas", "heating")
CW, HW, SEWAGE, EL, GAS, HEATING = range(6)
#: services a premise meter bills by rules 1–4 (sewage only through its own meter)
METERED: Final = (CW, HW, SEWAGE, EL, GAS)
#: services whose normative charge carries the increasing coefficient (п.5 of pp354.md)
WITH_COEFFICIENT: Final = (CW, HW, EL)
#: services that may have СОИ (common-house) lines
SOI_SERVICES: Final = (CW, HW, EL)

METHODS: Final = (
    "meter",
    "recalculation",
    "average",
    "normative",
    "water_sum",
    "house_meter_area",
    "normative_area",
    "soi_house_meter",
    "soi_normative",
)
(
    M_METER,
    M_RECALC,
    M_AVERAGE,
    M_NORMATIVE,
    M_WATER_SUM,
    M_HOUSE_AREA,
    M_NORM_AREA,
    M_SOI_HOUSE,
    M_SOI_NORM,
) = range(9)

#: ``Meters.installed`` of a meter without an installation date: active in every period
NO_INSTALL: Final = -(2**40)


def month_index(year: int, month: int) -> int:
    """Months since year 0: consecutive calendar months are consecutive integers."""
    return year * 12 + month - 1


def month_name(index: int) -> str:
    """``YYYY-MM`` of a month index."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Fixed:
    """Exact decimals as integers: value = units / 10**scale."""

    units: Int64Array
    scale: int

    @staticmethod
    def of(values: Sequence[Decimal]) -> Fixed:
        """Packs decimals with the smallest common scale: int64 units, or Python integers (an
        object array) when a value is past 2**62."""
        scale = max((max(0, -int(v.as_tuple().exponent)) for v in values), default=0)
        units = [int(v.scaleb(scale)) for v in values]
        if units and max(max(units), -min(units)) >= 2**62:
            return Fixed(np.array(units, dtype=object), scale)
        return Fixed(np.array(units, dtype=np.int64), scale)


def _empty_fixed() -> Fixed:
    return Fixed(np.zeros(0, dtype=np.int64), 0)


@dataclass(frozen=True)
class BillingSettings:
    """The п.59 average and the п.60/formula 4 coefficient (defaults of billing-case.md)."""

    average_window_months: int = 6
    average_min_months: int = 3
    average_max_periods: int = 6
    increasing_coefficient: Decimal = Decimal("1.5")


@dataclass(frozen=True)
class Premises:
    """Premises (помещения): one row each.

    ``normatives[service]`` is each premise's normative (its override, else the general one) and
    ``normative_given[service]`` says whether it has one; a service absent from the mapping has
    none anywhere. Heating: Gcal per m² per month; others: per person per month.
    """

    ids: Sequence[str]
    house: Int64Array
    area: Fixed
    residential: BoolArray
    residents: Int64Array
    owners: Int64Array
    meter_possible: BoolArray
    normatives: Mapping[int, Fixed]
    normative_given: Mapping[int, BoolArray]


@dataclass(frozen=True)
class Houses:
    """Houses (МКД): common area (S_ои) and who pays the СОИ excess over the cap."""

    ids: Sequence[str]
    common_area: Fixed
    common_area_given: BoolArray
    distribute_excess: BoolArray


@dataclass(frozen=True)
class Meters:
    """Meters: ``owner`` is a premise index (individual meters) or a house index (house meters).

    ``installed`` is the month index of installation, or :data:`NO_INSTALL`.
    """

    ids: Sequence[str]
    owner: Int64Array
    service: Int64Array
    installed: Int64Array


@dataclass(frozen=True)
class Registers:
    """R(m): the last reading of a meter in each month that has one, sorted by (meter, month).

    ``value`` has rollovers unrolled (see :func:`core.billing.registers.month_registers`), so a
    difference of two values is the consumption between them; ``shown`` is the index as read.
    """

    meter: Int64Array
    month: Int64Array
    value: Fixed
    shown: Fixed


@dataclass(frozen=True)
class PriorEstimates:
    """Volumes billed by average or normative (rule 3) in earlier runs, one row per meter-month.

    A reading arriving in this run reverses those between it and the meter's previous reading.
    Each volume is exact: ``volume / divisor`` (``divisor`` empty: 1 for every row), so an
    average such as 20/3 is reversed as 20/3, not as a rounded decimal.
    """

    meter: Int64Array = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    month: Int64Array = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    volume: Fixed = field(default_factory=_empty_fixed)
    divisor: Int64Array = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


@dataclass(frozen=True)
class BillingInput:
    """Everything one billing run needs; periods are month indices (:func:`month_index`)."""

    first_period: int
    last_period: int
    tariffs: Mapping[int, Decimal]
    soi_normatives: Mapping[int, Decimal]
    premises: Premises
    houses: Houses
    meters: Meters
    registers: Registers
    house_meters: Meters
    house_registers: Registers
    settings: BillingSettings = field(default_factory=BillingSettings)
    prior_estimates: PriorEstimates = field(default_factory=PriorEstimates)


@dataclass(frozen=True)
class Accruals:
    """Accrual lines: exact volume ``num / den``; ``increased`` marks the coefficient K."""

    period: Int64Array
    premise: Int64Array
    service: Int64Array
    method: Int64Array
    num: Int64Array
    den: Int64Array
    increased: BoolArray
    volume_micro: Int64Array
    amount_kopecks: Int64Array


@dataclass(frozen=True)
class HouseRows:
    """One row per (period, house, СОИ service); volumes in units of 1/``unit`` of the result.

    ``measured`` is False without house meter data: then ``house_volume`` and ``excess`` are
    meaningless (null in the case output).
    """

    period: Int64Array
    house: Int64Array
    service: Int64Array
    measured: BoolArray
    house_volume: Int64Array
    individual: Int64Array
    excess: Int64Array
    distributed: Int64Array
    operator: Int64Array


@dataclass(frozen=True)
class MeterLines:
    """What each meter contributed to a line (rules 2–3), for explanations.

    Register indices point into ``BillingInput.registers`` (-1: none); ``volume`` is in units of
    1/``unit`` of the result; ``k`` counts periods without a reading, ``m`` active meters.
    """

    period: Int64Array
    meter: Int64Array
    method: Int64Array
    volume: Int64Array
    current: Int64Array
    previous: Int64Array
    base: Int64Array
    k: Int64Array
    m: Int64Array
    reversed_periods: Int64Array


def _no_rows() -> Int64Array:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Unbilled:
    """Premise services a run could not bill (:mod:`core.billing.unbilled`): one row per
    (period, premise, service, reason); ``meter`` is the meter index of a rule 3 row, else -1.
    """

    period: Int64Array = field(default_factory=_no_rows)
    premise: Int64Array = field(default_factory=_no_rows)
    service: Int64Array = field(default_factory=_no_rows)
    reason: Int64Array = field(default_factory=_no_rows)
    meter: Int64Array = field(default_factory=_no_rows)


@dataclass(frozen=True)
class BillingResult:
    """The output of :func:`core.billing.engine.bill`.

    ``meter_lines`` (what each meter contributed, for explanations and stored estimates) is
    built on first use from ``meter_details``: a run that only needs the lines skips it.
    """

    input: BillingInput
    unit: int
    accruals: Accruals
    houses: HouseRows
    meter_details: Callable[[], MeterLines]
    house_meter_volume: Mapping[tuple[int, int, int], int] = field(default_factory=dict)
    #: premise services not billed (a normative missing): everything else is billed
    unbilled: Unbilled = field(default_factory=Unbilled)

    @cached_property
    def meter_lines(self) -> MeterLines:
        return self.meter_details()
