"""The core against the reference at the edges of real data: no refusal, no mismatch."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from core.billing.case import bill_case
from tests.billing.extreme import cases
from tests.billing.reference import expected_output
from tests.billing.test_cases import _lines, _same


def check(case: dict[str, Any]) -> None:
    """Bills ``case`` by the core (with explanations) and by the reference: equal."""
    want, want_houses = expected_output(case)
    out = bill_case(case, explain=True)
    assert _same(_lines(out["accruals"]), want) == []
    got_houses = {
        (r["period"], r["house"], r["service"]): (
            r["house_volume"],
            r["individual_volume"],
            r["excess_volume"],
            r["distributed_volume"],
            r["operator_volume"],
        )
        for r in out["houses"]
    }
    assert got_houses == want_houses


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=cases())
def test_extreme_core_equals_reference(case: dict[str, Any]) -> None:
    check(case)
