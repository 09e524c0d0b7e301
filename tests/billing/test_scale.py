"""Hundreds of premises billed by the vectorized core and by the reference: equal line by line.

The property tests draw a few premises each; this one mixes many houses, meters listed in no
particular order, several meters of one service in a premise and a run of several periods.
"""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from core.billing.case import bill_case
from tests.billing.random_cases import house_rows
from tests.billing.reference import expected_output
from tests.billing.test_cases import _lines, _same

START = 2026 * 12  # 2026-01
METERED = ("cold_water", "hot_water", "electricity", "gas", "sewage")


def _name(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def _meter(rng: random.Random, mid: str, service: str, last: int) -> dict[str, Any]:
    months = sorted(rng.sample(range(last - 9, last + 1), rng.randint(0, 7)))
    value = Decimal(rng.randint(0, 99999)) / 10
    readings = []
    for month in months:
        value += Decimal(rng.randint(0, 40000)) / 1000
        readings.append([f"{_name(month)}-{rng.randint(2, 27):02d}", format(value, "f")])
    meter: dict[str, Any] = {"id": mid, "service": service, "readings": readings}
    if rng.random() < 0.2:
        meter["installed"] = f"{_name(last - rng.randint(0, 12))}-{rng.randint(1, 28):02d}"
    return meter


def _case(seed: int, houses: int, per_house: int) -> dict[str, Any]:
    rng = random.Random(seed)
    first, last = START + 1, START + 3
    house_list = []
    for h in range(houses):
        services = rng.sample(["cold_water", "hot_water", "electricity", "heating"], 3)
        house_list.append(
            {
                "id": f"h{h}",
                "common_area": str(Decimal(rng.randint(1000, 90000)) / 10),
                "soi_excess": rng.choice(["operator", "distribute"]),
                "meters": [_meter(rng, f"h{h}-{s}", s, last) for s in services],
            }
        )
    premises = []
    for i in range(houses * per_house):
        services = [s for s in METERED if rng.random() < 0.6]
        services += ["cold_water"] * (rng.random() < 0.15)  # a second riser
        rng.shuffle(services)
        premise: dict[str, Any] = {
            "id": f"p{i}",
            "house": f"h{i % houses}",
            "area": str(Decimal(rng.randint(150, 1500)) / 10),
            "residential": rng.random() < 0.9,
            "residents": rng.randint(0, 5),
            "owners": rng.randint(1, 3),
            "meter_possible": rng.random() < 0.8,
            "meters": [_meter(rng, f"p{i}-m{n}", s, last) for n, s in enumerate(services)],
        }
        if rng.random() < 0.1:
            premise["normatives"] = {"cold_water": "5.1"}
        premises.append(premise)
    rng.shuffle(premises)
    return {
        "start_period": _name(first),
        "period": _name(last),
        "timezone": "Europe/Moscow",
        "tariffs": {
            "cold_water": "50.93",
            "hot_water": "210.40",
            "sewage": "40.05",
            "electricity": "5.67",
            "gas": "7.91",
            "heating": "2814.35",
        },
        "normatives": {
            "cold_water": "6.935",
            "hot_water": "4.745",
            "electricity": "46",
            "gas": "9.2",
            "heating": "0.0172",
        },
        "soi_normatives": {"cold_water": "0.03", "hot_water": "0.028", "electricity": "1.2"},
        "houses": house_list,
        "premises": premises,
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_many_premises_equal_the_reference(seed: int) -> None:
    case = _case(seed, houses=12, per_house=25)
    want, want_houses = expected_output(case)
    out = bill_case(case, explain=False)
    got = _lines(out["accruals"])
    assert len(got) > 2000
    assert {k[3] for k in got} >= {"meter", "average", "normative", "water_sum", "soi_normative"}
    assert _same(got, want) == []
    assert house_rows(out) == want_houses
