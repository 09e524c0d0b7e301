"""`uchet bill` of the store goes on when a premise has no normative for a service it must be
billed by normative: everyone else is billed, and the report names what was not."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api.runtime import migrate_url
from tests.billing_db.convert import SOURCE, ingest
from tests.billing_db.helpers import accruals, bill, load

pytestmark = pytest.mark.postgres

MSK = ZoneInfo("Europe/Moscow")


def _reference() -> dict[str, Any]:
    def premise(n: int, **more: Any) -> dict[str, Any]:
        return {"id": f"apt{n}", "house": "h1", "area": "50", "residents": 2, **more}

    return {
        "source": SOURCE,
        "houses": [{"id": "h1", "common_area": "100"}],
        "premises": [
            premise(1, meters=[{"meter": "apt1-cw", "channel": "cold_water"}]),
            premise(2),  # no meter, no cold water normative: not billed for cold water
            premise(3, normatives={"cold_water": "5"}),
            premise(4),
        ],
        "tariffs": [{"valid_from": "2025-01", "cold_water": "40.00", "hot_water": "200.00"}],
        # a general hot water normative only: cold water has one for apt3 alone
        "normatives": [{"valid_from": "2020-01", "hot_water": "4.745"}],
    }


async def test_premises_without_a_normative_are_named_and_the_rest_billed(db_url: str) -> None:
    await migrate_url(db_url)
    await load(db_url, _reference())
    rows = [
        ("apt1-cw", "cold_water", datetime(2025, 12, 20, 12, tzinfo=MSK), 100.0),
        ("apt1-cw", "cold_water", datetime(2026, 1, 20, 12, tzinfo=MSK), 104.0),
    ]
    await ingest(db_url, rows)
    report = await bill(db_url, "2026-01")
    assert report.warnings == [
        "cold_water not billed in 2026-01 for 2 premise(s): no cold_water normative: apt2, apt4"
    ]
    lines = {(a["premise"], a["service"], a["method"]): a["amount"] for a in await accruals(db_url)}
    assert lines == {
        ("apt1", "cold_water", "meter"): "160.00",  # 4 m³ × 40
        ("apt1", "hot_water", "normative"): "2847.00",  # 2 × 4.745 × 200 × 1.5
        ("apt2", "hot_water", "normative"): "2847.00",
        ("apt3", "cold_water", "normative"): "600.00",  # 2 × 5 × 40 × 1.5
        ("apt3", "hot_water", "normative"): "2847.00",
        ("apt4", "hot_water", "normative"): "2847.00",
    }
    assert report.lines == len(lines)
