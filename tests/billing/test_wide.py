"""Houses that used to wrap int64 or be refused: billed exactly, by Python integers if need be.

The numbers are the ones of issue 16: a heating normative with 15 decimals made electricity
by normative for 4 residents −123.445735 kWh; an average window of 12 months with a 2,300.51 m²
shop and a heating normative of 0.0198 was refused.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from core.billing.case import bill_case, parse_case
from core.billing.engine import _Run
from core.billing.exact import round_into, scaled_round
from tests.billing.test_extreme import check


def _case(heating: str, window: int, area: str) -> dict[str, Any]:
    return {
        "period": "2026-03",
        "timezone": "Europe/Moscow",
        "settings": {"average_window_months": window},
        "tariffs": {"electricity": "7.50", "heating": "2500.00"},
        "normatives": {"electricity": "46", "heating": heating},
        "houses": [{"id": "h1", "common_area": "600"}],
        "premises": [
            {"id": "apt", "house": "h1", "area": "60", "residents": 4},
            {"id": "shop", "house": "h1", "area": area, "residential": False},
        ],
    }


def _lines(out: dict[str, Any]) -> dict[tuple[str, str], tuple[str, str]]:
    return {(x["premise"], x["service"]): (x["volume"], x["amount"]) for x in out["accruals"]}


def test_fifteen_decimal_normative_is_exact_not_wrapped() -> None:
    case = _case("0.016666666666667", 6, "9500")
    run = _Run(parse_case(case)[0])
    assert not run.bounds.fits and run.wide  # the case needs more than int64
    lines = _lines(bill_case(case))
    # 4 × 46 kWh × 7.50 × 1.5 (no meter, one could be installed)
    assert lines[("apt", "electricity")] == ("184.000000", "2070.00")
    # 9,500 m² × 0.016666666666667 Gcal/m² = 158.3333333333365 Gcal × 2,500 ₽
    assert lines[("shop", "heating")] == ("158.333333", "395833.33")
    check(case)


def test_window_of_twelve_with_a_large_shop_is_billed() -> None:
    case = _case("0.0198", 12, "2300.51")
    lines = _lines(bill_case(case))
    assert lines[("shop", "heating")] == ("45.550098", "113875.25")
    check(case)


def test_ordinary_house_stays_on_int64() -> None:
    run = _Run(parse_case(_case("0.0198", 6, "60"))[0])
    assert run.bounds.fits and not run.wide


def test_negative_halves_round_away_from_zero_on_both_paths() -> None:
    num = np.array([2500, -2500], dtype=np.int64)
    big = np.array([2500 * 10**30, -2500 * 10**30], dtype=object)
    # 2.5 × 40.05 = 100.125 → 100.13 and −100.125 → −100.13, in int64 and in Python integers
    assert scaled_round(num, 1000, 4005 * 100, 100).tolist() == [10013, -10013]
    assert scaled_round(big, 1000 * 10**30, 4005 * 100, 100).tolist() == [10013, -10013]
    out = np.empty(2, dtype=np.int64)
    round_into(out, big, 1000 * 10**30, 4005 * 100, 100)
    assert out.tolist() == [10013, -10013]
