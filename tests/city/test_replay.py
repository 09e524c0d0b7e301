"""A small city (3 houses, 3 months) through the real store, broker, gateway, API, VEE and
billing: deterministic from its seed, every path reconciles, the error causes add up."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from api.city.replay import CityError, run_city
from api.city.report import write
from api.commands.city import default_start
from api.runtime import migrate_url
from simulators.city.attribution import CAUSES
from simulators.city.town import CitySpec, FaultRates
from tests.services import Mosquitto, create_database, drop_database

pytestmark = [pytest.mark.postgres, pytest.mark.mqtt, pytest.mark.slow]


def small_city() -> CitySpec:
    # the last whole months before today, so every path's age limits hold whenever this runs
    return CitySpec(
        houses=3,
        months=3,
        seed=11,
        premises_per_house=30,
        start=default_start(3, datetime.now(UTC).date()),
        # a small town sees few faults at the real rates: make each one certain to happen
        faults=FaultRates(mqtt_lost=0.02, mqtt_duplicate=0.03, mqtt_malformed=0.002,
                          mqtt_clock_skew=0.002, api_repeat=0.05, meter_dead=0.03),
    )  # fmt: skip


async def _replay(url: str, broker: Mosquitto, out: Path) -> dict[str, Any]:
    rep = await run_city(small_city(), url, out, mqtt_url=broker.url)
    return write(rep, out)


async def test_small_city_replays_identically_and_reconciles(
    db_url: str, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    first = await _replay(db_url, mosquitto, tmp_path / "a")
    other = await create_database()
    try:
        await _replay(other, mosquitto, tmp_path / "b")
    finally:
        await drop_database(other)
    for name in ("report.json", "billing_errors.csv", "report.md"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name

    paths = first["paths"]
    assert set(paths) == {"mqtt", "modbus", "askue", "api"}
    for name, p in paths.items():
        accounted = (
            p["stored"] + p["duplicates"] + p["conflicts"] + p["superseded"]
            + sum(p["quarantined"].values()) + sum(p["rejected"].values())
        )  # fmt: skip
        assert p["delivered"] > 0, name
        assert p["delivered"] == accounted, name
        assert p["outcomes"] == p["expected"], name  # what each path should make of its faults
    mqtt = paths["mqtt"]
    assert mqtt["duplicates"] > 0 and mqtt["lost_before_delivery"] > 0
    assert set(mqtt["quarantined"]) == {"malformed", "future_timestamp"}
    assert paths["api"]["duplicates"] > 0  # residents who pressed "send" twice

    # the store holds exactly the history plus what every path stored
    store = first["store"]
    assert sum(store["readings_by_source"].values()) == store["history_readings"] + sum(
        p["stored"] for p in paths.values()
    )
    assert store["duplicates"] == sum(p["duplicates"] for p in paths.values())
    conn = await asyncpg.connect(db_url)
    try:
        quarantined = await conn.fetchval("SELECT count(*) FROM quarantine")
        billed = await conn.fetch("SELECT DISTINCT period FROM accruals ORDER BY period")
    finally:
        await conn.close()
    assert quarantined == sum(sum(p["quarantined"].values()) for p in paths.values())
    assert [f"{r['period']:%Y-%m}" for r in billed] == first["city"]["months"]
    await _check_billing_error(first, db_url, tmp_path / "a")


async def _check_billing_error(report: dict[str, Any], db_url: str, out: Path) -> None:
    """The billing error per premise, service and month: causes sum to it exactly."""
    with (out / "billing_errors.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows
    for r in rows:
        assert Decimal(r["charged"]) - Decimal(r["true"]) == Decimal(r["error"])
        assert sum(Decimal(r[c]) for c in CAUSES) == Decimal(r["error"]), r
    total = report["billing"]["errors"]["total"]
    assert sum(Decimal(total[c]) for c in CAUSES) == Decimal(total["error"])
    assert Decimal(total["charged"]) == sum(Decimal(r["charged"]) for r in rows)
    # the charged side is what billing wrote, line by line
    conn = await asyncpg.connect(db_url)
    try:
        accrued = await conn.fetchval("SELECT sum(amount) FROM accruals")
    finally:
        await conn.close()
    assert Decimal(total["charged"]) == accrued

    # premises billed by normative carry that cause; premises with only meter lines do not
    def methods(r: dict[str, str]) -> set[str]:
        return set(r["methods"].split("+"))

    individual = {"meter", "average", "recalculation", "normative"}
    normative = [r for r in rows if methods(r) & individual == {"normative"}]
    assert normative
    for r in normative:
        assert Decimal(r["meter_readings"]) == Decimal(r["averages"]) == 0, r
        assert Decimal(r["normatives"]) != 0, r
    metered = [r for r in rows if methods(r) & individual == {"meter"}]
    assert metered
    assert all(Decimal(r["normatives"]) == Decimal(r["averages"]) == 0 for r in metered)
    # house leaks reach bills only through СОИ lines, and only in houses that leak
    leaking = {h["house"] for h in report["house_balance"] if h["service"] == "cold_water"
               and h["true_leak_or_unregistered"] > 0}  # fmt: skip
    assert all(Decimal(r["leaks"]) == 0 for r in rows if r["house"] not in leaking)
    assert any(Decimal(r["leaks"]) > 0 for r in rows if r["house"] in leaking)
    found = report["anomalies"]
    leak = found["injected"]["house_network_leak_cold_water"]
    # a leak is detected where the house balance can be compared (every premise meter
    # daily), and reported as not visible to VEE elsewhere — never a false imbalance
    assert leak.get("detected", 0) + leak.get("not_visible_to_vee", 0) == leak["injected"]
    assert found["found_not_injected"].get("house_imbalance", 0) == 0


async def test_refuses_a_store_that_is_not_empty(
    db_url: str, mosquitto: Mosquitto, tmp_path: Path
) -> None:
    await migrate_url(db_url)
    conn = await asyncpg.connect(db_url)
    try:
        await conn.execute("INSERT INTO houses (id) VALUES ('x')")
        await conn.execute("INSERT INTO premises (id, house_id, area) VALUES ('x-1', 'x', 50)")
    finally:
        await conn.close()
    with pytest.raises(CityError, match="1 premises and 0 readings"):
        await run_city(small_city(), db_url, tmp_path, mqtt_url=mosquitto.url)
