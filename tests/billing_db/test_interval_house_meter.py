"""A house meter that sends interval energies only (an ASKUE house input: kWh per half-hour, no
register) bills the house's СОИ by what it measured when its intervals cover the month exactly
once (a month of 743 hours here: Berlin changes to summer time in March); otherwise СОИ goes by
normative and the run says why. A meter with registers is billed by its registers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters.store import ReadingStore
from api.runtime import migrate_url
from tests.billing_db.convert import SOURCE, ingest
from tests.billing_db.helpers import accruals, bill, fetch, load

pytestmark = pytest.mark.postgres

TZ = "Europe/Berlin"
BERLIN = ZoneInfo(TZ)
MARCH = datetime(2026, 3, 1, tzinfo=BERLIN).astimezone(UTC)
APRIL = datetime(2026, 4, 1, tzinfo=BERLIN).astimezone(UTC)
HALF = timedelta(minutes=30)


def _reference() -> dict[str, Any]:
    def premise(n: int) -> dict[str, Any]:
        meter = {"meter": f"apt{n}-el", "channel": "electricity"}
        return {"id": f"apt{n}", "house": "h1", "area": "50", "residents": 1, "meters": [meter]}

    return {
        "source": SOURCE,
        "houses": [
            {
                "id": "h1",
                "common_area": "100",
                "meters": [{"meter": "in-01", "channel": "electricity"}],
            }
        ],
        "premises": [premise(1), premise(2)],
        "tariffs": [{"valid_from": "2025-01", "electricity": "5.00"}],
        "normatives": [{"valid_from": "2020-01", "electricity": "100"}],
        "soi_normatives": [{"valid_from": "2020-01", "electricity": "2"}],
    }


def _half_hours() -> list[tuple[datetime, float]]:
    """Every half-hour of March in Berlin (1,486 of them): 0.2 kWh, one of 0.123."""
    out, ts = [], MARCH
    while ts < APRIL:
        out.append((ts, 0.123 if not out else 0.2))
        ts += HALF
    return out


async def _intervals(url: str, values: list[tuple[datetime, float]]) -> None:
    store = await ReadingStore.open(url)
    try:
        meters = await store.resolve([(SOURCE, "in-01", "electricity")], register=True)
        mid = meters[(SOURCE, "in-01", "electricity")].id
        await store.write([(mid, ts, v, 1, 0, ts + HALF) for ts, v in values], [], source=SOURCE)
    finally:
        await store.close()


async def _house(url: str, intervals: list[tuple[datetime, float]]) -> None:
    await migrate_url(url)
    await load(url, _reference())
    at = {m: datetime(2026, m, 20, 12, tzinfo=BERLIN) for m in (2, 3)}
    await ingest(
        url,
        [
            ("apt1-el", "electricity", at[2], 1000.0),
            ("apt1-el", "electricity", at[3], 1150.0),  # 150 kWh
            ("apt2-el", "electricity", at[2], 500.0),
            ("apt2-el", "electricity", at[3], 600.0),  # 100 kWh
        ],
    )
    await _intervals(url, intervals)


async def _soi(url: str) -> dict[str, tuple[str, str]]:
    return {
        a["premise"]: (a["method"], a["volume"])
        for a in await accruals(url, "service = 'electricity' AND method LIKE 'soi%'")
    }


async def test_a_month_of_half_hours_bills_soi_by_the_house_meter(db_url: str) -> None:
    values = _half_hours()
    assert len(values) == 743 * 2
    await _house(db_url, values)
    report = await bill(db_url, "2026-03", TZ)
    assert not [w for w in report.warnings if "in-01" in w], report.warnings
    (balance,) = await fetch(db_url, "SELECT * FROM house_balances WHERE service = 'electricity'")
    # 1,485 × 0.2 + 0.123, summed exactly: no float noise
    assert balance["house_volume"] == Decimal("297.123")
    assert balance["individual_volume"] == Decimal("250")
    assert balance["distributed_volume"] == Decimal("47.123")  # under the cap 2 × 100 m²
    assert await _soi(db_url) == {
        "apt1": ("soi_house_meter", "23.561500"),
        "apt2": ("soi_house_meter", "23.561500"),
    }


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda v: v[:100] + v[101:], "intervals cover 742.5 of the month's 743 h"),  # a gap
        (lambda v: v[1:], "intervals cover 742.5 of the month's 743 h"),  # the first missing
        (lambda v: v[:-1], "intervals cover 742.5 of the month's 743 h"),  # the last missing
        (lambda v: [*v[:5], (v[5][0], -0.2), *v[6:]], "a negative or impossible interval value"),
    ],
    ids=["gap", "first", "last", "negative"],
)
async def test_a_month_not_covered_bills_soi_by_normative_and_says_why(
    db_url: str, change: Any, why: str
) -> None:
    await _house(db_url, change(_half_hours()))
    report = await bill(db_url, "2026-03", TZ)
    assert (
        f"house meter in-01: {why} in 2026-03: its house data is not used (СОИ by normative)"
        in report.warnings
    ), report.warnings
    (balance,) = await fetch(db_url, "SELECT * FROM house_balances WHERE service = 'electricity'")
    assert balance["house_volume"] is None
    assert {m for m, _ in (await _soi(db_url)).values()} == {"soi_normative"}


async def test_an_interval_overlapping_another_is_not_a_month(db_url: str) -> None:
    values = _half_hours()
    await _house(db_url, values)
    store = await ReadingStore.open(db_url)
    try:  # an hour-long interval from 10:15, over two half-hours already there
        meters = await store.resolve([(SOURCE, "in-01", "electricity")], register=True)
        mid = meters[(SOURCE, "in-01", "electricity")].id
        start = values[20][0] + timedelta(minutes=15)
        await store.write([(mid, start, 0.1, 1, 0, start + 2 * HALF)], [], source=SOURCE)
    finally:
        await store.close()
    report = await bill(db_url, "2026-03", TZ)
    assert any("in-01: overlapping intervals in 2026-03" in w for w in report.warnings)


async def test_registers_win_over_intervals(db_url: str) -> None:
    await _house(db_url, _half_hours())
    # the same meter read as a register in February and March (off the half-hour grid: one
    # reading per meter and instant): billed by the registers alone
    await ingest(
        db_url,
        [
            ("in-01", "electricity", datetime(2026, 2, 28, 23, 45, tzinfo=BERLIN), 7000.0),
            ("in-01", "electricity", datetime(2026, 3, 31, 23, 45, tzinfo=BERLIN), 7400.0),
        ],
    )
    report = await bill(db_url, "2026-03", TZ)
    assert not [w for w in report.warnings if "in-01" in w], report.warnings
    (balance,) = await fetch(db_url, "SELECT * FROM house_balances WHERE service = 'electricity'")
    assert balance["house_volume"] == Decimal("400")
