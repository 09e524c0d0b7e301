"""The two sides of a reconciliation: rows of the property register and premises with accounts."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class RegisterRow:
    """One premise of the property register (ЕГРН extract or municipal list).

    ``line`` is the row of the file it came from; optional values are None when the register
    does not give them."""

    line: int
    address: str
    premise: str = ""  # номер помещения, if the register has its own column
    cadastral: str | None = None
    fias: str | None = None  # ГАР/ФИАС GUID of the premise (or of the house)
    area: Decimal | None = None
    residential: bool | None = None
    owners: int | None = None
    residents: int | None = None
    file: str = ""

    @property
    def where(self) -> str:
        return f"{self.file}, row {self.line}" if self.file else f"row {self.line}"


@dataclass(frozen=True, slots=True)
class AccountPremise:
    """A premise of the billing data (``premises`` and its house's address)."""

    premise_id: str
    house_id: str
    house_address: str
    account: str | None
    area: Decimal
    residential: bool = True
    residents: int = 0
    owners: int = 0
    metered: frozenset[str] = frozenset()  # services with an individual meter bound
    cadastral: str | None = None
    fias: str | None = None


@dataclass(frozen=True, slots=True)
class HouseRates:
    """What a month's charges by area and by normative cost in a house (the current rates).

    ``tariffs`` and ``normatives`` by service (heating normative per m²), ``soi_normatives``
    per m² of common area; ``common_area`` S_ои (None: unknown, no СОИ money)."""

    common_area: Decimal | None = None
    tariffs: dict[str, Decimal] = field(default_factory=dict)
    normatives: dict[str, Decimal] = field(default_factory=dict)
    soi_normatives: dict[str, Decimal] = field(default_factory=dict)
    unmetered_consumption: bool = False  # the last house balance left volume nobody paid for
