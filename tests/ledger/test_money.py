"""Money and rates are exact integers; halves round away from zero."""

from __future__ import annotations

import pytest

from core.ledger import LedgerError
from core.ledger.money import format_money, half_up, parse_money, parse_rate
from core.ledger.penalty import DENOMINATOR


def test_half_up_on_exact_halves() -> None:
    assert half_up(5, 10) == 1 and half_up(-5, 10) == -1
    assert half_up(4, 10) == 0 and half_up(14999, 10000) == 1
    # a penalty of exactly 0.005 ₽ is one kopeck, 0.00499… is none
    assert half_up(DENOMINATOR // 2, DENOMINATOR) == 1
    assert half_up(DENOMINATOR // 2 - 1, DENOMINATOR) == 0


def test_money_round_trip_and_refusals() -> None:
    assert parse_money("1234.50", "x") == 123450
    assert parse_money("-120.00", "x") == -12000
    assert format_money(-5) == "-0.05" and format_money(123450) == "1234.50"
    for bad in ("1.5", "1.500", "1e3", "", " 1.00", 1.0):
        with pytest.raises(LedgerError, match="exactly two decimals"):
            parse_money(bad, "payment p1: amount")


def test_rates_in_basis_points() -> None:
    assert parse_rate("9.5", "x") == 950 and parse_rate("16.50", "x") == 1650
    assert parse_rate("21", "x") == 2100
    with pytest.raises(LedgerError, match="percent"):
        parse_rate("9.555", "key_rates[0]")
