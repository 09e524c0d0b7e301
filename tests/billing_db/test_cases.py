"""Database mode against the JSON front end: the shared cases loaded into PostgreSQL, their
readings ingested, each period billed on its own, must give the numbers ``bill_case`` gives."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from api.runtime import migrate_url
from core.billing import month_name
from core.billing.case import bill_case
from tests.billing_db.convert import ingest, readings_of, reference_of
from tests.billing_db.helpers import accruals, bill, fetch, load, period, same_numbers

pytestmark = pytest.mark.postgres

CASES = Path(__file__).resolve().parent.parent / "billing" / "cases"
NAMES = ["basic-house", "rollover-new-meter", "soi-cap"]


def _case(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((CASES / f"{name}.json").read_text("utf-8"))
    return doc


def _periods(case: dict[str, Any]) -> list[str]:
    first, last = period(case.get("start_period", case["period"])), period(case["period"])
    return [month_name(p) for p in range(first, last + 1)]


def _comparable(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lines without the run id, explanations with the same number spelling, in one order."""
    key = ("period", "premise", "service", "method")
    return sorted(
        [
            {
                **{k: v for k, v in line.items() if k != "run_id"},
                "explanation": same_numbers(line["explanation"]),
            }
            for line in lines
        ],
        key=lambda line: tuple(line[k] for k in key),
    )


@pytest.mark.parametrize("name", NAMES)
async def test_store_bills_like_the_case(db_url: str, name: str) -> None:
    case = _case(name)
    await migrate_url(db_url)
    await load(db_url, reference_of(case))
    await ingest(db_url, readings_of(case))
    periods = _periods(case)
    for p in periods:  # one run per period: later ones reverse estimates the earlier stored
        report = await bill(db_url, p, case["timezone"])
        assert report.warnings == []
    expected = bill_case(case)
    assert _comparable(await accruals(db_url)) == _comparable(expected["accruals"])

    houses = await fetch(db_url, "SELECT * FROM house_balances ORDER BY period, house_id, service")

    def micro(value: object) -> str | None:
        return None if value is None else format(value, "f")

    order = ("period", "house", "service")
    got = [
        {
            "period": f"{r['period']:%Y-%m}",
            "house": r["house_id"],
            "service": r["service"],
            "house_volume": micro(r["house_volume"]),
            "individual_volume": micro(r["individual_volume"]),
            "excess_volume": micro(r["excess_volume"]),
            "distributed_volume": micro(r["distributed_volume"]),
            "operator_volume": micro(r["operator_volume"]),
        }
        for r in houses
    ]
    assert sorted(got, key=lambda h: tuple(h[k] for k in order)) == sorted(
        expected["houses"], key=lambda h: tuple(h[k] for k in order)
    )
    runs = await fetch(db_url, "SELECT period, lines, total FROM billing_runs ORDER BY id")
    assert [f"{r['period']:%Y-%m}" for r in runs] == periods
    for run, p in zip(runs, periods, strict=True):
        mine = [a for a in expected["accruals"] if a["period"] == p]
        assert run["lines"] == len(mine)
        assert run["total"] == sum(Decimal(a["amount"]) for a in mine)


async def test_billing_a_period_again_replaces_it(db_url: str) -> None:
    case = _case("basic-house")
    await migrate_url(db_url)
    await load(db_url, reference_of(case))
    await ingest(db_url, readings_of(case))
    for p in _periods(case):
        await bill(db_url, p)
    before = await accruals(db_url)
    estimates = await fetch(db_url, "SELECT meter_id, period, volume FROM billed_estimates")
    again = await bill(db_url, "2026-02")
    after = await accruals(db_url)
    # same lines, no duplicates; only February's now belong to the new run
    assert len(after) == len(before)
    strip = [{k: v for k, v in a.items() if k != "run_id"} for a in after]
    assert strip == [{k: v for k, v in b.items() if k != "run_id"} for b in before]
    assert {a["run_id"] for a in after if a["period"] == "2026-02"} == {again.run_id}
    assert {a["run_id"] for a in after if a["period"] != "2026-02"} < {b["run_id"] for b in before}
    assert sorted(estimates) == sorted(
        await fetch(db_url, "SELECT meter_id, period, volume FROM billed_estimates")
    )
    assert any("2026-03" in w for w in again.warnings)  # a later period was already billed
