"""The closed-form penalty equals the day-by-day reference on random debts, payments, rates,
moratoria and stage settings (exactly, before rounding)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from core.ledger.model import KeyRates, LedgerSettings
from core.ledger.penalty import DENOMINATOR, numerator
from tests.ledger.reference import reference_penalty

BASE = 739_500  # a day in 2025


@st.composite
def cases(draw: st.DrawFn) -> tuple[object, ...]:
    grace = draw(st.integers(1, 40))
    second = draw(st.integers(grace + 1, grace + 80))
    moratoria = tuple(
        (lo, lo + draw(st.integers(1, 40)))
        for lo in draw(st.lists(st.integers(BASE, BASE + 300), max_size=2))
    )
    cap = draw(st.sampled_from([None, 950]))
    s = LedgerSettings(
        grace_days=grace,
        second_stage_day=second,
        cap_bp=cap,
        cap_until=BASE + draw(st.integers(0, 400)),
        moratoria=moratoria,
    )
    days = sorted(set(draw(st.lists(st.integers(1, 400), max_size=4))))
    rates = KeyRates.of(
        [(BASE - 10, draw(st.integers(0, 2500)))]
        + [(BASE + d, draw(st.integers(0, 2500))) for d in days]
    )
    charge = draw(st.integers(1, 10**9))
    due = BASE + draw(st.integers(0, 60))
    paid = []
    left = charge
    for _ in range(draw(st.integers(0, 4))):
        if left <= 0:
            break
        amount = draw(st.integers(1, left))
        paid.append((due + draw(st.integers(-20, 250)), amount))
        left -= amount
    settle = due + draw(st.integers(-5, 260))
    return charge, due, paid, settle, rates, s


@settings(max_examples=200, deadline=None)
@given(cases())
def test_closed_form_equals_the_day_by_day_reference(case: tuple[object, ...]) -> None:
    charge, due, paid, settle, rates, s = case
    assert isinstance(charge, int) and isinstance(due, int) and isinstance(settle, int)
    assert isinstance(rates, KeyRates) and isinstance(s, LedgerSettings)
    assert isinstance(paid, list)
    got = Fraction(numerator(charge, due, paid, settle, rates, s), DENOMINATOR)
    assert got == reference_penalty(charge, due, paid, settle, rates, s)
