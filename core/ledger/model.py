"""The ledger's inputs: settings, key rates, one account's charges and payments."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import pairwise

from core.ledger.dates import day_name
from core.ledger.errors import LedgerError

CHARGES = "charges"
PENALTY = "penalty"
# ПП 474 as extended by ПП 329 of 18.03.2025: the rate is not above 9.5 % until 01.01.2027
DEFAULT_CAP_BP = 950
DEFAULT_CAP_UNTIL = 739982  # date(2027, 1, 1).toordinal()


@dataclass(frozen=True, slots=True)
class LedgerSettings:
    """``due_day`` None: the law's 10th/15th; ``moratoria``: [from, to) day ordinals."""

    due_day: int | None = None
    grace_days: int = 30
    second_stage_day: int = 91
    cap_bp: int | None = DEFAULT_CAP_BP
    cap_until: int = DEFAULT_CAP_UNTIL
    moratoria: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        if not 0 < self.grace_days < self.second_stage_day:
            raise LedgerError(
                f"settings: grace_days {self.grace_days} and second_stage_day "
                f"{self.second_stage_day} must satisfy 0 < grace_days < second_stage_day"
            )
        if self.due_day is not None and not 1 <= self.due_day <= 31:
            raise LedgerError(f"settings: due_day {self.due_day} is not a day of a month 1..31")
        for lo, hi in self.moratoria:
            if hi <= lo:
                raise LedgerError(f"settings: moratorium [{day_name(lo)}, {day_name(hi)}) is empty")


@dataclass(frozen=True, slots=True)
class KeyRates:
    """Bank of Russia key rates in basis points, each in force from its day to the next one's."""

    days: tuple[int, ...]
    rates_bp: tuple[int, ...]

    @classmethod
    def of(cls, entries: list[tuple[int, int]]) -> KeyRates:
        entries = sorted(entries)
        for (a, _), (b, _) in pairwise(entries):
            if a == b:
                raise LedgerError(f"key_rates: {day_name(a)} is given twice")
        return cls(tuple(d for d, _ in entries), tuple(r for _, r in entries))

    def key_rate(self, day: int) -> int:
        i = bisect_right(self.days, day) - 1
        if i < 0:
            raise LedgerError(f"key_rates: no key rate in force on {day_name(day)}")
        return self.rates_bp[i]

    def rate(self, day: int, settings: LedgerSettings) -> int:
        """The rate for money paid on ``day``: the key rate, capped before the cap's end."""
        bp = self.key_rate(day)
        if settings.cap_bp is not None and day < settings.cap_until:
            return min(bp, settings.cap_bp)
        return bp


@dataclass(frozen=True, slots=True)
class Payment:
    id: str
    day: int
    amount: int  # kopecks, > 0
    period: int | None = None
    to: str = CHARGES


@dataclass(frozen=True, slots=True)
class Account:
    """``charges``: period → kopecks (opening debt included; negative is a credit)."""

    id: str
    charges: dict[int, int]
    payments: tuple[Payment, ...] = ()


@dataclass(frozen=True, slots=True)
class Allocation:
    payment: str  # a payment id, or ``credit:YYYY-MM``
    day: int
    period: int
    amount: int
    to: str


@dataclass(slots=True)
class Settled:
    """One account processed up to a day: every allocation in processing order."""

    account: Account
    allocations: list[Allocation] = field(default_factory=list)
