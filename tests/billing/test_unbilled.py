"""A premise service that needs a normative the input lacks is named and, in a partial run,
left unbilled with what depends on it (sewage as water, the СОИ of a metered house), while
every other line is exactly what the run with the normative bills."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from core.billing import SERVICES, BillingResult, bill, month_name
from core.billing.case import parse_case
from core.billing.model import M_SOI_HOUSE, M_SOI_NORM
from core.billing.unbilled import (
    HOUSE_SOI,
    METER_NORMATIVE,
    NO_NORMATIVE,
    WATER_SUM,
    unbilled_messages,
)
from core.errors import BillingError

CASE = json.loads((Path(__file__).parent / "cases" / "basic-house.json").read_text("utf-8"))
PERIODS = ("2026-01", "2026-02", "2026-03")

Row = tuple[str, str, str, int]  # (period, premise, service, reason)


def _case(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    case: dict[str, Any] = copy.deepcopy(CASE)
    # apt3's hot water meter read once long ago: no average, rule 3 needs the normative
    case["premises"][2]["meters"].append(
        {
            "id": "apt3-hw",
            "service": "hot_water",
            "installed": "2023-01-15",
            "readings": [["2023-02-01", "1.000"]],
        }
    )
    change(case)
    return case


def _lines(result: BillingResult) -> set[tuple[str, str, str, str, int, int]]:
    a, p = result.accruals, result.input.premises
    return {
        (
            month_name(int(a.period[i])),
            p.ids[int(a.premise[i])],
            SERVICES[int(a.service[i])],
            str(int(a.method[i])),
            int(a.volume_micro[i]),
            int(a.amount_kopecks[i]),
        )
        for i in range(a.period.size)
    }


def _houses(result: BillingResult) -> set[tuple[int, ...]]:
    h = result.houses
    return {
        tuple(int(getattr(h, k)[i]) for k in ("period", "house", "service", "distributed"))
        for i in range(h.period.size)
    }


def _unbilled(result: BillingResult) -> set[Row]:
    u, ids = result.unbilled, result.input.premises.ids
    return {
        (month_name(int(u.period[i])), ids[int(u.premise[i])], SERVICES[int(u.service[i])],
         int(u.reason[i]))
        for i in range(u.period.size)
    }  # fmt: skip


def _partial(change: Callable[[dict[str, Any]], None]) -> tuple[BillingResult, BillingResult]:
    """The run without the normative (partial) and the run with it."""
    full, _ = parse_case(_case(lambda c: None))
    broken, _ = parse_case(_case(change))
    with pytest.raises(BillingError) as info:
        bill(broken)
    text = str(info.value)
    assert "\n" not in text and text.startswith("cannot bill")
    result = bill(broken, partial=True)
    for line in unbilled_messages(result):
        assert line in text  # the error is every message, on one line
    return result, bill(full)


def _without(full: BillingResult, unbilled: set[Row]) -> set[tuple[str, str, str, str, int, int]]:
    """The lines of ``full`` but those unbilled (only the СОИ lines, for a house's СОИ)."""
    soi = {str(M_SOI_HOUSE), str(M_SOI_NORM)}
    gone = {(p, pr, s) for p, pr, s, why in unbilled if why != HOUSE_SOI}
    gone_soi = {(p, pr, s) for p, pr, s, why in unbilled if why == HOUSE_SOI}
    return {
        line
        for line in _lines(full)
        if line[:3] not in gone and not (line[:3] in gone_soi and line[3] in soi)
    }


def test_missing_hot_water_normative_leaves_hot_water_and_sewage_of_those_premises() -> None:
    result, full = _partial(lambda c: c["normatives"].pop("hot_water"))
    expected = set()
    for period in PERIODS:
        expected |= {
            (period, "apt2", "hot_water", NO_NORMATIVE),
            (period, "apt3", "hot_water", METER_NORMATIVE),
            (period, "apt2", "sewage", WATER_SUM),
            (period, "apt3", "sewage", WATER_SUM),
        }
    assert _unbilled(result) == expected
    assert _lines(result) == _without(full, expected)
    assert any(line[1] == "apt1" and line[2] == "sewage" for line in _lines(result))
    assert _houses(result) == _houses(full)  # hot water has no СОИ here
    messages = unbilled_messages(result)
    assert len(messages) == 3 * 3  # per period: apt2's, apt3's meter, the sewage of both
    assert any("apt3 (meter apt3-hw)" in m and "2026-02" in m for m in messages)
    assert any(m.startswith("sewage not billed in 2026-03 for 2 premise(s)") for m in messages)


def test_missing_normative_of_a_soi_service_leaves_the_soi_of_a_metered_house() -> None:
    result, full = _partial(lambda c: c["normatives"].pop("electricity"))
    # the house electricity meter has data in every period: its excess needs apt2's volume
    expected = set()
    for period in PERIODS:
        expected.add((period, "apt2", "electricity", NO_NORMATIVE))
        expected |= {(period, p, "electricity", HOUSE_SOI) for p in ("apt1", "apt2", "apt3")}
        expected.add((period, "shop1", "electricity", HOUSE_SOI))
    assert _unbilled(result) == expected
    assert _lines(result) == _without(full, expected)
    el = SERVICES.index("electricity")
    assert _houses(result) == {h for h in _houses(full) if h[2] != el}
    assert any("(house h1)" in m for m in unbilled_messages(result))


def test_a_premise_override_is_enough() -> None:
    def change(c: dict[str, Any]) -> None:
        c["normatives"].pop("electricity")
        c["premises"][1]["normatives"] = {"electricity": "46"}  # the general value, on apt2

    broken, _ = parse_case(_case(change))
    full, _ = parse_case(_case(lambda c: None))
    result = bill(broken, partial=True)
    assert result.unbilled.period.size == 0 and unbilled_messages(result) == []
    assert _lines(result) == _lines(bill(full))
