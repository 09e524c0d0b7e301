"""The penalty as the spec words it, day by day in exact fractions: the reference the closed
form of core.ledger.penalty is checked against (and the benchmark's per-account loop)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from core.ledger.model import KeyRates, LedgerSettings


def reference_penalty(
    charge: int,
    due: int,
    paid: Sequence[tuple[int, int]],
    settle: int,
    rates: KeyRates,
    settings: LedgerSettings,
) -> Fraction:
    """Kopecks, unrounded: Σ over delay days d of f(d)/100 × (Σ paid on or after d × rate of
    the payment day + unpaid × rate(S)), rates in percent."""
    known = [(day, amount) for day, amount in paid if day <= settle]
    unpaid = charge - sum(a for _, a in known)
    total = Fraction(0)
    for d in range(due + 1, settle + 1):
        n = d - due
        if n <= settings.grace_days or any(lo <= d < hi for lo, hi in settings.moratoria):
            continue
        f = Fraction(1, 300) if n < settings.second_stage_day else Fraction(1, 130)
        weight = sum(
            (Fraction(a * rates.rate(x, settings), 100) for x, a in known if x >= d),
            Fraction(0),
        )
        if unpaid:
            weight += Fraction(unpaid * rates.rate(settle, settings), 100)
        total += f / 100 * weight
    return total
