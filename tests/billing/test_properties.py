"""Random houses billed by the vectorized core and by the reference: equal line by line."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from tests.billing.random_cases import cases, check

__all__ = ["cases"]  # tests/billing_db/test_random_store.py and test_explain.py draw from it


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_core_equals_reference(case: dict[str, Any]) -> None:
    check(case)
