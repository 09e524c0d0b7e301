"""The core against the reference at the edges of real data: no refusal, no mismatch."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings

from tests.billing.random_cases import cases, check


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=cases(extreme=True))
def test_extreme_core_equals_reference(case: dict[str, Any]) -> None:
    check(case)
