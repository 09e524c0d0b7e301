"""The collection rate (собираемость): of what was charged for a period, how much its payments
(allocated by the ledger's rules) had paid by a day — exact, in kopecks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from core.ledger.dates import charged_on
from core.ledger.model import CHARGES, Settled
from core.ledger.money import half_up


@dataclass(slots=True)
class Collected:
    """A period's positive charges and what was paid to them (kopecks)."""

    charged: int = 0
    paid: int = 0

    def add(self, other: Collected) -> None:
        self.charged += other.charged
        self.paid += other.paid

    @property
    def rate_bp(self) -> int | None:
        """paid / charged in hundredths of a percent, half-up; None when nothing was charged."""
        return None if self.charged <= 0 else half_up(self.paid * 10000, self.charged)


def collected(settled: Settled, periods: Iterable[int], day: int) -> dict[int, Collected]:
    """Per period of ``periods`` charged by ``day``: its positive charge and the allocations
    to that charge dated up to ``day`` (payments, advances and credits alike)."""
    wanted = {p for p in periods if charged_on(p) <= day}
    charges = settled.account.charges
    out = {p: Collected(max(charges.get(p, 0), 0)) for p in sorted(wanted)}
    for a in settled.allocations:
        if a.to == CHARGES and a.day <= day and a.period in out:
            out[a.period].paid += a.amount
    return out
