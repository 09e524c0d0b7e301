"""Estimates billed by earlier runs are reversed by the run that finally gets a reading
(п.61), tariffs apply from their month on, and bad data is named without stopping the run."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api.runtime import migrate_url
from tests.billing_db.convert import ingest
from tests.billing_db.helpers import accruals, bill, fetch, load

pytestmark = pytest.mark.postgres

MSK = ZoneInfo("Europe/Moscow")


def _reference(tariffs: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "source": "mqtt",
        "houses": [{"id": "h1", "common_area": "100"}],
        "premises": [
            {
                "id": "apt1",
                "house": "h1",
                "area": "50",
                "residents": 2,
                "meters": [
                    {"meter": "apt1-cw", "channel": "cold_water", "installed": "2024-01-10"}
                ],
            },
            {
                "id": "apt2",
                "house": "h1",
                "area": "40",
                "residents": 1,
                "meters": [
                    {"meter": "apt2-cw", "channel": "cold_water", "installed": "2024-01-10"}
                ],
            },
        ],
        "tariffs": tariffs,
        "normatives": [{"valid_from": "2020-01", "cold_water": "6.935"}],
    }


def _monthly(meter: str, start: tuple[int, int], values: list[float]) -> list[Any]:
    year, month = start
    out = []
    for v in values:
        out.append((meter, "cold_water", datetime(year, month, 20, 12, tzinfo=MSK), v))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


async def _house(url: str) -> None:
    await migrate_url(url)
    await load(url, _reference([{"valid_from": "2025-01", "cold_water": "40.00"}]))
    # six months of history: average (115 − 100) / 5 = 3 m³ for apt1
    await ingest(url, _monthly("apt1-cw", (2025, 7), [100, 103, 106, 109, 112, 115]))
    await ingest(url, _monthly("apt2-cw", (2025, 7), [10, 11, 12, 13, 14, 15, 16, 17, 18]))


def _lines(rows: list[dict[str, Any]], premise: str) -> dict[tuple[str, str], tuple[str, ...]]:
    return {
        (r["period"], r["method"]): (r["volume"], r["tariff"], r["amount"])
        for r in rows
        if r["premise"] == premise
    }


async def test_late_reading_reverses_estimates_of_earlier_runs(db_url: str) -> None:
    await _house(db_url)
    await bill(db_url, "2026-01")
    await bill(db_url, "2026-02")
    estimates = await fetch(
        db_url,
        "SELECT e.period, e.method, e.volume FROM billed_estimates e"
        " JOIN meters m ON m.id = e.meter_id WHERE m.external_id = 'apt1-cw' ORDER BY period",
    )
    assert [(f"{r['period']:%Y-%m}", r["method"], r["volume"]) for r in estimates] == [
        ("2026-01", "average", Decimal("3.000000")),
        ("2026-02", "average", Decimal("3.000000")),
    ]
    # a new tariff from March, then the reading that arrives late (after two estimated months)
    report = await load(db_url, _reference([{"valid_from": "2026-03", "cold_water": "44.00"}]))
    assert str(report.counts["tariffs"]) == "1 created, 0 updated, 0 unchanged"
    await ingest(db_url, _monthly("apt1-cw", (2026, 3), [127.5]))
    march = await bill(db_url, "2026-03")
    lines = _lines(await accruals(db_url), "apt1")
    assert lines[("2026-01", "average")] == ("3.000000", "40.00", "120.00")
    assert lines[("2026-02", "average")] == ("3.000000", "40.00", "120.00")
    assert lines[("2026-03", "meter")] == ("12.500000", "44.00", "550.00")
    assert lines[("2026-03", "recalculation")] == ("-6.000000", "44.00", "-264.00")
    # the net of the three months is what the meter measured: 127.5 − 115
    net = sum(Decimal(v[0]) for v in lines.values())
    assert net == Decimal("12.5")
    # apt2 read every month: no recalculation, its March line at the new tariff
    assert _lines(await accruals(db_url), "apt2")[("2026-03", "meter")] == (
        "1.000000",
        "44.00",
        "44.00",
    )
    assert march.warnings == []
    text = next(
        a["explanation"]
        for a in await accruals(db_url)
        if a["premise"] == "apt1" and a["method"] == "recalculation"
    )
    assert "apt1-cw" in text and "2 мес." in text

    # billing March again changes nothing; January keeps its own tariff when billed again
    before = await accruals(db_url)
    await bill(db_url, "2026-03")
    jan = await bill(db_url, "2026-01")
    after = await accruals(db_url)
    assert [{**a, "run_id": 0} for a in after] == [{**b, "run_id": 0} for b in before]
    assert any("2026-02, 2026-03" in w for w in jan.warnings)

    # April: no reading again, the average now runs from the March reading
    await bill(db_url, "2026-04")
    april = _lines(await accruals(db_url, "period = '2026-04-01'"), "apt1")
    assert set(april) == {("2026-04", "average")}


async def test_backdated_reading_is_billed_by_billing_its_month_again(db_url: str) -> None:
    await _house(db_url)
    await bill(db_url, "2026-01")
    await bill(db_url, "2026-02")
    # a February reading arrives after February was billed by average
    await ingest(db_url, _monthly("apt1-cw", (2026, 2), [121.0]))
    await bill(db_url, "2026-02")
    lines = _lines(await accruals(db_url), "apt1")
    assert lines[("2026-02", "meter")] == ("6.000000", "40.00", "240.00")
    assert lines[("2026-02", "recalculation")] == ("-3.000000", "40.00", "-120.00")
    assert ("2026-02", "average") not in lines
    months = await fetch(
        db_url,
        "SELECT e.period FROM billed_estimates e JOIN meters m ON m.id = e.meter_id"
        " WHERE m.external_id = 'apt1-cw'",
    )
    assert [f"{r['period']:%Y-%m}" for r in months] == ["2026-01"]


async def test_decreasing_reading_is_named_and_the_rest_billed(db_url: str) -> None:
    await _house(db_url)
    # apt2's meter has no capacity_digits: 9.5 after 18 cannot be a rollover
    await ingest(db_url, _monthly("apt2-cw", (2026, 4), [9.5]))
    await ingest(db_url, _monthly("apt1-cw", (2026, 4), [130.0]))
    report = await bill(db_url, "2026-04")
    assert len(report.warnings) == 1
    assert "apt2-cw" in report.warnings[0] and "2026-04" in report.warnings[0]
    lines = await accruals(db_url)
    assert _lines(lines, "apt1")[("2026-04", "meter")][0] == "15.000000"
    # apt2 is billed without the bad value: by average over its history
    assert set(_lines(lines, "apt2")) == {("2026-04", "average")}


async def test_meter_bound_to_an_unknown_premise_is_reported(db_url: str) -> None:
    await _house(db_url)
    await ingest(db_url, _monthly("stray", (2026, 1), [5.0]))
    await fetch(db_url, "UPDATE meters SET premise_id = 'apt99' WHERE external_id = 'stray'")
    report = await bill(db_url, "2026-01")
    assert any("stray" in w and "apt99" in w for w in report.warnings)
    assert {a["premise"] for a in await accruals(db_url)} == {"apt1", "apt2"}
