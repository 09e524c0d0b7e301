"""Billing core (ПП 354): accruals by meter, average, normative, recalculation, СОИ and heating.

Entry point: ``bill(BillingInput) -> BillingResult`` (:mod:`core.billing.engine`), pure and
vectorized with numpy over premises and meters. A loader builds the input as arrays:

- ``Premises``: house index, area (:class:`Fixed`), residential, residents, owners,
  meter_possible, and per service the normative of each premise (override, else general) with a
  mask of premises that have one.
- ``Houses``: common area, whether the owners decided to distribute the whole СОИ excess.
- ``Meters`` (premise meters) and ``house_meters``: owner index, service code (index into
  ``SERVICES``), installation month (``NO_INSTALL`` if unknown).
- ``Registers`` / ``house_registers``: R(m), the last reading per meter-month, rollovers
  unrolled; build them from raw readings with :func:`core.billing.registers.month_registers`.
- ``tariffs`` and ``soi_normatives`` by service code (Decimal); ``BillingSettings``.
- ``PriorEstimates``: volumes billed by average/normative in earlier runs (meter, month,
  volume), so a late reading reverses them; empty for a JSON case.

Periods are month indices (:func:`month_index`). The result holds exact volumes
(``num / den``), volumes rounded half-up to 6 places (``volume_micro``), amounts in kopecks
(``amount_kopecks``), the СОИ rows per house, and per-meter details from which
:func:`core.billing.explain.explanations` writes the Russian explanation of each line.
:mod:`core.billing.case` is the JSON front end (``uchet bill-case``). A premise service
that needs a normative the input lacks is an error naming them all, or with
``bill(inp, partial=True)`` left unbilled (``result.unbilled``, :func:`unbilled_messages`)
while everyone else is billed.
"""

from core.billing.engine import bill
from core.billing.explain import explanations
from core.billing.model import (
    METHODS,
    NO_INSTALL,
    SERVICES,
    Accruals,
    BillingInput,
    BillingResult,
    BillingSettings,
    Fixed,
    HouseRows,
    Houses,
    MeterLines,
    Meters,
    Premises,
    PriorEstimates,
    Registers,
    month_index,
    month_name,
)
from core.billing.registers import DecreasingReading, month_registers
from core.billing.unbilled import unbilled_messages

__all__ = [
    "METHODS",
    "NO_INSTALL",
    "SERVICES",
    "Accruals",
    "BillingInput",
    "BillingResult",
    "BillingSettings",
    "DecreasingReading",
    "Fixed",
    "HouseRows",
    "Houses",
    "MeterLines",
    "Meters",
    "Premises",
    "PriorEstimates",
    "Registers",
    "bill",
    "explanations",
    "month_index",
    "month_name",
    "month_registers",
    "unbilled_messages",
]
