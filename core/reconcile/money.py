"""What a premise's area and residents are worth per month (₽, exact), for ranking findings.

By area: the СОИ share without house meter data (formula 15, N_soi × S_ои × S_i / S_total × T
per СОИ service) and heating by normative (formula 2, S_i × N_heating × T). By residents:
the services a premise has no meter for, by normative (formula 4, n × N × T, n = residents or,
with none, owners; without the 1.5 coefficient). With a house heat meter (formula 3) or
house water and electricity meters the money moves between the premises of the house
rather than appears; these figures are then the order of magnitude, which is what ranking
needs (docs/reconcile.md).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from core.reconcile.model import HouseRates

KOPECK = Decimal("0.01")
ZERO = Decimal(0)
NORMATIVE_SERVICES = ("cold_water", "hot_water", "sewage", "electricity", "gas")
HEATING = "heating"


def kopecks(value: Decimal) -> Decimal:
    return value.quantize(KOPECK, rounding=ROUND_HALF_UP)


def soi_charge(area: Decimal, total_area: Decimal, rates: HouseRates) -> Decimal:
    """The premise's monthly СОИ charges by formula 15 (unrounded); 0 when S_ои is unknown."""
    if rates.common_area is None or total_area <= 0:
        return ZERO
    per_m2 = sum(
        (n * rates.tariffs[s] for s, n in rates.soi_normatives.items() if s in rates.tariffs),
        ZERO,
    )
    return per_m2 * rates.common_area * area / total_area


def heating_charge(area: Decimal, rates: HouseRates) -> Decimal:
    """Heating by normative (formula 2), unrounded; 0 without a heating tariff or normative."""
    n, t = rates.normatives.get(HEATING), rates.tariffs.get(HEATING)
    if n is None or t is None:
        return ZERO
    return area * n * t


def normative_charge(people: int, rates: HouseRates, metered: frozenset[str]) -> Decimal:
    """Formula 4 over the services without an individual meter, unrounded."""
    total = ZERO
    for s in NORMATIVE_SERVICES:
        if s not in metered and s in rates.normatives and s in rates.tariffs:
            total += people * rates.normatives[s] * rates.tariffs[s]
    return total


def people(residents: int | None, owners: int | None) -> int:
    """Who normative charges count: residents, or with none registered the owners (п.56(2))."""
    return residents or owners or 0
