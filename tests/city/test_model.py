"""The town, its deliveries and the money arithmetic of the report, without any service."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from decimal import Decimal

import pytest

from simulators.city.attribution import kopecks, rub
from simulators.city.consumption import generate
from simulators.city.delivery import Registers, api_plan, month_of, mqtt_plan
from simulators.city.town import CitySpec, FaultRates, build_town

SPEC = CitySpec(houses=4, months=2, seed=3, premises_per_house=25, start=date(2026, 3, 1))


def test_same_seed_same_town_other_seed_other_town() -> None:
    a, b = build_town(SPEC), build_town(SPEC)
    assert a.premise_ids == b.premise_ids and a.meters == b.meters
    assert (a.area_dm2 == b.area_dm2).all() and (a.actual == b.actual).all()
    c = build_town(CitySpec(houses=4, months=2, seed=4, premises_per_house=25, start=SPEC.start))
    assert (a.area_dm2 != c.area_dm2).any()


@pytest.mark.parametrize(("houses", "per_house"), [(1, 2), (4, 25), (7, 100)])
def test_premises_add_up_to_houses_times_average(houses: int, per_house: int) -> None:
    spec = CitySpec(houses=houses, premises_per_house=per_house, start=SPEC.start)
    town = build_town(spec)
    assert town.n_premises == houses * per_house
    assert len(set(town.accounts)) == town.n_premises
    assert all(m.path in ("mqtt", "api", "modbus", "askue") for m in town.meters)


def test_mqtt_plan_expects_one_outcome_per_published_element() -> None:
    spec = CitySpec(
        houses=2, months=1, seed=9, premises_per_house=40, start=date(2026, 3, 1),
        faults=FaultRates(mqtt_lost=0.05, mqtt_duplicate=0.1, mqtt_malformed=0.01,
                          mqtt_clock_skew=0.01, mqtt_late=0.05),
    )  # fmt: skip
    town = build_town(spec)
    truth = generate(town)
    plan = mqtt_plan(town, truth, Registers.build(town, truth), spec.first_month)
    elements = [e for _, payload in plan.messages for e in json.loads(payload)]
    assert len(elements) == plan.delivered
    seen: Counter[tuple[str, str]] = Counter((e["meter"], e["ts"]) for e in elements)
    repeats = sum(n - 1 for n in seen.values())
    assert plan.expect["duplicate"] + _bad_repeats(elements) == repeats
    assert plan.expect["quarantine:malformed"] == sum(e["value"] == "n/a" for e in elements)
    assert plan.lost > 0 and plan.notes["duplicate_message"] > 0


def _bad_repeats(elements: list[dict[str, object]]) -> int:
    """Repeated garbage elements are quarantined again, not counted as duplicates."""
    bad = Counter((e["meter"], e["ts"]) for e in elements if e["value"] == "n/a")
    skew = Counter((e["meter"], e["ts"]) for e in elements if str(e["ts"]).startswith("2036"))
    return sum(n - 1 for n in (bad + skew).values())


def test_late_resident_readings_come_in_the_first_days_of_the_next_month() -> None:
    spec = CitySpec(houses=2, months=2, seed=5, premises_per_house=50, start=date(2026, 3, 1),
                    faults=FaultRates(api_late=0.3))  # fmt: skip
    town = build_town(spec)
    truth = generate(town)
    regs = Registers.build(town, truth)
    second = api_plan(town, truth, regs, spec.first_month + 1)
    late = {(s.meter, s.taken_at) for s in second.submissions if s.taken_at.day <= 5}
    assert late and second.notes["late_submission"] == len(late)
    assert all(month_of(s.taken_at.date()) == spec.first_month + 1 for s in second.submissions)


@pytest.mark.parametrize(
    ("volume", "tariff", "expected"),
    [(2.5, "40.05", 10013), (1.0, "50.00", 5000), (0.0000004, "210.00", 0), (3.3333335, "3", 1000)],
)
def test_kopecks_round_half_up_through_decimal(volume: float, tariff: str, expected: int) -> None:
    assert kopecks(volume, Decimal(tariff)) == expected


@pytest.mark.parametrize(("kop", "text"), [(0, "0.00"), (5, "0.05"), (-12345, "-123.45")])
def test_rub(kop: int, text: str) -> None:
    assert rub(kop) == text
