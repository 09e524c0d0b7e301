"""Database mode equals case mode to the kopeck: rollovers inside a month, exact estimates,
operator exclusions, stale months refused by name, impossible values left out by name."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api.runtime import migrate_url
from core.billing.case import bill_case
from core.errors import BillingError
from tests.billing_db.convert import ingest, readings_of, reference_of
from tests.billing_db.helpers import accruals, bill, fetch, load
from tests.billing_db.test_recalculation import _house, _lines, _monthly

pytestmark = pytest.mark.postgres

MSK = ZoneInfo("Europe/Moscow")


def _case(readings: list[list[str]], start: str, period: str, digits: int | None) -> dict[str, Any]:
    meter: dict[str, Any] = {"id": "m1", "service": "cold_water", "readings": readings}
    if digits is not None:
        meter["capacity_digits"] = digits
    return {
        "start_period": start,
        "period": period,
        "timezone": "Europe/Moscow",
        "tariffs": {"cold_water": "40.00"},
        "normatives": {"cold_water": "6.935"},
        "houses": [{"id": "h1", "common_area": "100"}],
        "premises": [
            {"id": "apt1", "house": "h1", "area": "50", "residents": 2, "meters": [meter]}
        ],
    }


async def _store_equals_case(url: str, case: dict[str, Any], periods: list[str]) -> list[Any]:
    await migrate_url(url)
    await load(url, reference_of(case))
    await ingest(url, readings_of(case))
    for p in periods:
        await bill(url, p)
    got = {
        (a["period"], a["premise"], a["service"], a["method"]): (a["volume"], a["amount"])
        for a in await accruals(url)
    }
    want = {
        (a["period"], a["premise"], a["service"], a["method"]): (a["volume"], a["amount"])
        for a in bill_case(case, explain=False)["accruals"]
    }
    assert got == want
    return sorted(got.items())


async def test_rollover_inside_a_month_is_billed_like_the_case(db_url: str) -> None:
    # one digit: 5.0 → 9.9 → (turn) 4.0 → 5.5 is 10.5 m³, not the 0.5 of month-ends
    readings = [
        ["2025-12-20", "5.0"],
        ["2026-01-10", "9.9"],
        ["2026-01-15", "4.0"],
        ["2026-01-28", "5.5"],
    ]
    lines = await _store_equals_case(db_url, _case(readings, "2026-01", "2026-01", 1), ["2026-01"])
    assert lines == [(("2026-01", "apt1", "cold_water", "meter"), ("10.500000", "420.00"))]


async def test_estimates_are_reversed_exactly(db_url: str) -> None:
    # average (120 − 100) / 3 = 6.666…: two of them reversed as 40/3, not as 2 × 6.666667
    readings = [
        ["2025-10-20", "100"],
        ["2025-11-20", "105"],
        ["2025-12-20", "112"],
        ["2026-01-20", "120"],
        ["2026-04-20", "141"],
    ]
    case = _case(readings, "2026-02", "2026-04", None)
    lines = dict(await _store_equals_case(db_url, case, ["2026-02", "2026-03", "2026-04"]))
    assert lines[("2026-04", "apt1", "cold_water", "recalculation")] == ("-13.333333", "-533.33")
    stored = await fetch(db_url, "SELECT exact_num, exact_den FROM billed_estimates")
    assert {(int(r["exact_num"]), int(r["exact_den"])) for r in stored} == {(20, 3)}


async def test_excluded_reading_is_not_billed(db_url: str) -> None:
    await _house(db_url)
    await ingest(db_url, _monthly("apt1-cw", (2026, 1), [1115.0]))  # a typo: 1115 for 118
    await fetch(
        db_url,
        "UPDATE readings SET flags = flags | 512 WHERE value = 1115"
        " AND meter_id = (SELECT id FROM meters WHERE external_id = 'apt1-cw')",
    )
    await bill(db_url, "2026-01")
    lines = _lines(await accruals(db_url), "apt1")
    assert set(lines) == {("2026-01", "average")}  # as if the reading were absent


async def test_reading_for_a_billed_month_refuses_naming_the_month(db_url: str) -> None:
    await _house(db_url)
    await bill(db_url, "2026-01")  # apt1 by average
    await ingest(db_url, _monthly("apt1-cw", (2026, 1), [118.0]))  # late January reading
    with pytest.raises(BillingError) as exc:
        await bill(db_url, "2026-02")
    text = str(exc.value)
    assert "apt1-cw" in text and "2026-01" in text and "--period 2026-01" in text
    assert await accruals(db_url, "period = '2026-02-01'") == []
    await bill(db_url, "2026-01")
    await bill(db_url, "2026-02")
    lines = _lines(await accruals(db_url), "apt1")
    assert lines[("2026-01", "meter")][0] == "3.000000"
    assert ("2026-01", "average") not in lines


async def test_impossible_value_is_left_out_and_named(db_url: str) -> None:
    await _house(db_url)
    # stored by a path that did not check it (older data, another writer): the January
    # month-end of apt2 is 1e300, past any register
    await fetch(
        db_url,
        "INSERT INTO readings (meter_id, ts, value) SELECT id, $1, 1e300 FROM meters"
        " WHERE external_id = 'apt2-cw'",
        datetime(2026, 1, 25, 12, tzinfo=MSK),
    )
    await ingest(db_url, _monthly("apt1-cw", (2026, 1), [118.0]))
    report = await bill(db_url, "2026-01")
    assert [m for m, _ in report.unbilled] == ["apt2-cw"]
    assert "1e+300" in report.unbilled[0][1]
    assert any("apt2-cw" in w for w in report.warnings)
    lines = await accruals(db_url)
    assert _lines(lines, "apt1")[("2026-01", "meter")][0] == "3.000000"
    # apt2 is billed from its other January reading (16 after 15)
    assert _lines(lines, "apt2")[("2026-01", "meter")][0] == "1.000000"
