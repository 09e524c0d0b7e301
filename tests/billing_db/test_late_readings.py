"""A reading that changes a month already billed by meter (it arrived later in the month than
the one billed, the billed one was corrected or excluded) stops the billing of a later month
with the months and meters to bill again; readings that change nothing do not."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from adapters.store import ReadingStore
from adapters.store.exclusions import find_meter, set_excluded
from api.runtime import migrate_url
from core.batch import to_us
from core.errors import BillingError
from tests.billing_db.convert import SOURCE, ingest
from tests.billing_db.helpers import accruals, bill, fetch, load

pytestmark = pytest.mark.postgres

MSK = ZoneInfo("Europe/Moscow")


def _reference() -> dict[str, Any]:
    def premise(n: int, digits: int | None = None) -> dict[str, Any]:
        meter: dict[str, Any] = {"meter": f"apt{n}-cw", "channel": "cold_water"}
        if digits is not None:
            meter["capacity_digits"] = digits
        return {"id": f"apt{n}", "house": "h1", "area": "50", "residents": 1, "meters": [meter]}

    return {
        "source": SOURCE,
        "houses": [{"id": "h1", "common_area": "100"}],
        "premises": [premise(1), premise(2), premise(3, digits=3)],
        "tariffs": [{"valid_from": "2025-01", "cold_water": "40.00"}],
        "normatives": [{"valid_from": "2020-01", "cold_water": "6.935"}],
    }


def _at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 12, tzinfo=MSK)


async def _billed_through_february(url: str) -> None:
    """Three meters read on the 20th of each month from October; January and February billed
    (apt3's register of 3 digits turns over in February: 990 → 5)."""
    await migrate_url(url)
    await load(url, _reference())
    months = [(2025, 10), (2025, 11), (2025, 12), (2026, 1), (2026, 2), (2026, 3)]
    rows = []
    for i, (y, mo) in enumerate(months):
        rows.append(("apt1-cw", "cold_water", _at(mo, 20, y), 100.0 + 3 * i))
        rows.append(("apt2-cw", "cold_water", _at(mo, 20, y), 10.0 + i))
        rows.append(("apt3-cw", "cold_water", _at(mo, 20, y), (960.0 + 10 * i) % 1000))
    await ingest(url, rows)
    await bill(url, "2026-01")
    await bill(url, "2026-02")


async def _refused(url: str, period: str) -> str:
    with pytest.raises(BillingError) as info:
        await bill(url, period)
    march = await accruals(url, f"period = '{period}-01'")
    assert march == []  # nothing of the refused month was written
    return str(info.value)


async def test_a_later_reading_in_a_billed_month_is_named(db_url: str) -> None:
    await _billed_through_february(db_url)
    await ingest(
        db_url,
        [
            # apt1's February was billed to 112 on the 20th; 113.5 on the 27th is its
            # month-end now
            ("apt1-cw", "cold_water", _at(2, 27), 113.5),
            # apt2: earlier in February than the reading billed (R(February) unchanged), the
            # very reading billed delivered again, a later one with the same value
            ("apt2-cw", "cold_water", _at(2, 10), 13.5),
            ("apt2-cw", "cold_water", _at(2, 20), 14.0),
            ("apt2-cw", "cold_water", _at(2, 25), 14.0),
            # a reading of March, not billed yet
            ("apt1-cw", "cold_water", _at(3, 25), 116.0),
        ],
    )
    text = await _refused(db_url, "2026-03")
    assert "2026-03 was not billed" in text and "bill 2026-02 again first" in text
    assert "meter apt1-cw: 2026-02 billed by meter from 109 to 112, now from 109 to 113.5" in text
    assert "apt2-cw" not in text and "apt3-cw" not in text and "2026-01" not in text
    # billing February again takes the reading in; then March bills against it
    await bill(db_url, "2026-02")
    await bill(db_url, "2026-03")
    lines = await accruals(db_url, "premise_id IN ('apt1', 'apt2')")
    volumes = {(r["premise"], r["period"]): r["volume"] for r in lines if r["method"] == "meter"}
    assert volumes == {
        ("apt1", "2026-01"): "3.000000",
        ("apt1", "2026-02"): "4.500000",
        ("apt1", "2026-03"): "2.500000",
        ("apt2", "2026-01"): "1.000000",
        ("apt2", "2026-02"): "1.000000",
        ("apt2", "2026-03"): "1.000000",
    }


async def test_a_corrected_month_end_reading_is_named(db_url: str) -> None:
    await _billed_through_february(db_url)
    store = await ReadingStore.open(db_url)
    try:
        meters = await store.resolve([(SOURCE, "apt2-cw", "cold_water")], register=False)
        result = await store.write_arrays(
            np.array([meters[(SOURCE, "apt2-cw", "cold_water")].id], dtype=np.int32),
            np.array([to_us(_at(2, 20))], dtype=np.int64),
            np.array([14.5]),
            np.zeros(1, dtype=np.int16),
            np.zeros(1, dtype=np.int32),
            None,
            [],
            source=SOURCE,
            mode="supersede",
        )
    finally:
        await store.close()
    assert result.superseded == 1
    text = await _refused(db_url, "2026-03")
    assert "apt2-cw" in text and "2026-02" in text and "now from 13 to 14.5" in text
    assert "apt1-cw" not in text


async def test_a_reading_excluded_or_included_after_the_run_is_named(db_url: str) -> None:
    await _billed_through_february(db_url)
    conn = await _connect(db_url)
    try:
        apt1 = await find_meter(conn, f"{SOURCE}:apt1-cw")

        async def exclude(excluded: bool) -> None:
            await set_excluded(
                conn, apt1, _at(1, 20), excluded=excluded, reason="check", actor="op"
            )

        # January's month-end reading of apt1 excluded: January (its R) and February (its
        # base) change
        await exclude(True)
        text = await _refused(db_url, "2026-03")
        assert "apt1-cw: 2026-01" in text and "apt1-cw: 2026-02" in text
        assert "bill 2026-01, 2026-02 again first" in text
        # included again: January is what its run billed, nothing to do
        await exclude(False)
        await bill(db_url, "2026-03")
        # excluded before a run, included after it: that run did not bill it
        await exclude(True)
        await bill(db_url, "2026-01")
        await bill(db_url, "2026-02")
        await exclude(False)
        text = await _refused(db_url, "2026-04")
        assert "apt1-cw: 2026-01" in text
    finally:
        await conn.close()


async def test_a_late_reading_adding_a_rollover_is_named(db_url: str) -> None:
    await _billed_through_february(db_url)
    # apt3 (3 digits) read 990 in January and 0 in February: one turn of the register.
    # 995 on February 10 (990 → 995 → 0) changes nothing that February was billed from
    await ingest(db_url, [("apt3-cw", "cold_water", _at(2, 10), 995.0)])
    await bill(db_url, "2026-03")
    # 999 then 0 after the 20th: the same month-end, one more turn (1000 m³ more)
    later = [("apt3-cw", "cold_water", _at(2, 21), 999.0), ("apt3-cw", "cold_water", _at(2, 22), 0)]
    await ingest(db_url, later)
    text = await _refused(db_url, "2026-04")
    assert "apt3-cw: 2026-02" in text and "2 rollover(s)" in text
    assert "2026-03 billed" not in text  # March's inputs (R of February, R of March) are the same


async def test_a_late_reading_in_a_month_not_billed_names_the_month_it_is_the_base_of(
    db_url: str,
) -> None:
    await _billed_through_february(db_url)
    # December was never billed, but January was billed from December's 106: 107 on the
    # 28th makes January 2 m³, not 3
    await ingest(db_url, [("apt1-cw", "cold_water", _at(12, 28, 2025), 107.0)])
    text = await _refused(db_url, "2026-03")
    assert "apt1-cw: 2026-01 billed by meter from 106 to 109, now from 107 to 109" in text
    assert "2026-02" not in text.split("again first")[0]
    await bill(db_url, "2026-01")
    await bill(db_url, "2026-03")
    runs = await fetch(db_url, "SELECT count(*) AS n FROM billing_runs")
    assert runs[0]["n"] == 4


async def _connect(url: str) -> Any:
    import asyncpg

    return await asyncpg.connect(url)
