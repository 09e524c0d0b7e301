"""The penalty of one period (ЖК РФ ст.155 ч.14), exactly.

For a day d of delay the penalty is f(d)/100 × (Σ amount(a) × rate(x_a) over the allocations a
to the period dated on or after d, up to S, + unpaid × rate(S)). Swapping the sums, each
allocation contributes amount × rate × Σ f(d) over the delay days up to its own day, so the
period's penalty needs one count of weighted days per allocation, not a loop over days.

With amounts in kopecks, rates in basis points and f as 1/300 or 1/130, the penalty in kopecks
is Σ amount × rate × (130·n300 + 300·n130) / DENOMINATOR, rounded half-up once.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.ledger.model import KeyRates, LedgerSettings
from core.ledger.money import half_up

DENOMINATOR = 100 * 100 * 39000  # percent, basis points, lcm(300, 130)
W300 = 130
W130 = 300


def _overlap(lo: int, hi: int, a: int, b: int) -> int:
    """Days in [lo, hi] ∩ [a, b] (inclusive bounds)."""
    return max(0, min(hi, b) - max(lo, a) + 1)


def _days(lo: int, hi: int, settings: LedgerSettings) -> int:
    """Days of [lo, hi] outside every moratorium [from, to) (overlapping ones count once)."""
    n = max(0, hi - lo + 1)
    end = lo  # days before ``end`` are already taken off
    for m_from, m_to in sorted(settings.moratoria):
        start = max(m_from, end)
        if start < m_to:
            n -= _overlap(lo, hi, start, m_to - 1)
            end = m_to
    return n


def weight(due: int, last: int, settings: LedgerSettings) -> int:
    """130·n300 + 300·n130 over the delay days due+1 … last."""
    first = due + 1
    stage1_lo = due + settings.grace_days + 1
    stage2_lo = due + settings.second_stage_day
    hi = last
    if hi < stage1_lo or hi < first:
        return 0
    n300 = _days(stage1_lo, min(hi, stage2_lo - 1), settings)
    n130 = _days(stage2_lo, hi, settings) if hi >= stage2_lo else 0
    return W300 * n300 + W130 * n130


def numerator(
    charge: int,
    due: int,
    paid: Sequence[tuple[int, int]],
    settle: int,
    rates: KeyRates,
    settings: LedgerSettings,
) -> int:
    """The exact penalty × DENOMINATOR as of ``settle`` for a period of ``charge`` kopecks due on
    ``due``; ``paid`` are the (day, amount) allocations to its charge, any order."""
    if settle <= due + settings.grace_days:
        return 0
    total = 0
    unpaid = charge
    for day, amount in paid:
        if day > settle:
            continue
        unpaid -= amount
        w = weight(due, day, settings)
        if w:
            total += amount * rates.rate(day, settings) * w
    if unpaid:
        w = weight(due, settle, settings)
        if w:
            total += unpaid * rates.rate(settle, settings) * w
    return total


def penalty(
    charge: int,
    due: int,
    paid: Sequence[tuple[int, int]],
    settle: int,
    rates: KeyRates,
    settings: LedgerSettings,
) -> int:
    """The period's penalty in kopecks as of ``settle``, rounded half-up once."""
    return half_up(numerator(charge, due, paid, settle, rates, settings), DENOMINATOR)
