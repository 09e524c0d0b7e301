"""Shares by area (formulas 3 and 15) stay exact when V × S_i alone would leave int64."""

from __future__ import annotations

from typing import Any

import pytest

from core.billing.case import bill_case
from core.errors import BillingError
from tests.billing.reference import expected_output
from tests.billing.test_cases import _lines, _same


def _case(areas: list[str], soi: str = "1.2") -> dict[str, Any]:
    return {
        "start_period": "2026-03",
        "period": "2026-03",
        "timezone": "Europe/Moscow",
        "tariffs": {"electricity": "5.67"},
        "normatives": {"electricity": "46"},
        "soi_normatives": {"electricity": soi},
        "houses": [{"id": "h", "common_area": "100000.5", "soi_excess": "operator", "meters": []}],
        "premises": [
            {
                "id": f"p{i}",
                "house": "h",
                "area": area,
                "residential": True,
                "residents": 1,
                "owners": 1,
                "meter_possible": True,
                "meters": [],
            }
            for i, area in enumerate(areas)
        ],
    }


def test_huge_areas_bill_like_the_reference() -> None:
    # V (1.23456789012345 × 100000.5 m² in units of 1/Q) × S_i (~10**10 ten-thousandths of
    # m²) is past 2**62 even with S_i / S_total reduced by their gcd (1/3 and 2/3): the
    # lines are built from Python integers, exactly
    case = _case(["333333.3333", "666666.6666"], "1.23456789012345")
    want, _ = expected_output(case)
    out = bill_case(case, explain=False)
    soi = [x for x in out["accruals"] if x["method"] == "soi_normative"]
    assert len(soi) == 2
    assert _same(_lines(out["accruals"]), want) == []


def test_an_area_past_any_real_premise_is_refused_by_name() -> None:
    with pytest.raises(BillingError, match=r"premise p0: area: '123456789.10' is above"):
        bill_case(_case(["123456789.10", "1"]), explain=False)
