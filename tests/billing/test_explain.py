"""The fast explanations equal the reference ones byte for byte, and their numbers equal `ru`."""

from __future__ import annotations

import dataclasses
import json
import sys
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.billing.case import parse_case
from core.billing.engine import bill
from core.billing.explain import explanations
from core.billing.explain_keys import row_keys
from core.billing.explain_numbers import fixed_texts, grouped, ru, volume_texts
from core.billing.model import (
    CW,
    HEATING,
    HW,
    NO_INSTALL,
    SEWAGE,
    BillingInput,
    BillingResult,
    Fixed,
    Meters,
    Registers,
)
from tests.billing.test_explain_reference import reference_explanations
from tests.billing.test_properties import cases

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from bench_billing import synthetic

CASES = Path(__file__).parent / "cases"
NAMES = sorted(p.name.removesuffix(".expected.json") for p in CASES.glob("*.expected.json"))
INT64 = st.integers(-(2**63), 2**63 - 1)


def _billed(case: dict[str, Any]) -> BillingResult:
    return bill(parse_case(case)[0])


def _same(result: BillingResult) -> None:
    got, want = explanations(result), reference_explanations(result)
    assert len(got) == len(want) == result.accruals.period.size
    diffs = [(g, w) for g, w in zip(got, want, strict=True) if g != w]
    assert diffs == []


@pytest.mark.parametrize("name", NAMES)
def test_shared_cases_read_as_before(name: str) -> None:
    _same(_billed(json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_random_houses_read_as_before(case: dict[str, Any]) -> None:
    try:
        result = _billed(case)
    except Exception:  # cases the biller refuses have no explanations to compare
        return
    _same(result)


def _with_heating(inp: BillingInput) -> BillingInput:
    """Heating added: house meters (formula 3) in every other house, the rest by area."""
    p, hm, hr = inp.premises, inp.house_meters, inp.house_registers
    n, houses = len(p.ids), np.arange(0, len(inp.houses.ids), 2)
    premises = dataclasses.replace(
        p,
        normatives={**p.normatives, HEATING: Fixed(np.full(n, 214, dtype=np.int64), 4)},
        normative_given={**p.normative_given, HEATING: np.ones(n, dtype=np.bool_)},
    )
    first = len(hm.ids)
    meters = np.arange(first, first + houses.size, dtype=np.int64)
    house_meters = Meters(
        [*hm.ids, *(f"heat{h}" for h in houses.tolist())],
        np.concatenate([hm.owner, houses]),
        np.concatenate([hm.service, np.full(houses.size, HEATING, dtype=np.int64)]),
        np.concatenate([hm.installed, np.full(houses.size, NO_INSTALL, dtype=np.int64)]),
    )
    value = np.repeat(meters * 1000, 2)
    value[1::2] += 5_000 + 7 * meters  # Gcal, 3 places
    month = np.tile(np.array([inp.first_period - 1, inp.first_period]), houses.size)
    registers = Registers(
        np.concatenate([hr.meter, np.repeat(meters, 2)]),
        np.concatenate([hr.month, month]),
        Fixed(np.concatenate([hr.value.units, value]), 3),
        Fixed(np.concatenate([hr.shown.units, value]), 3),
    )
    return dataclasses.replace(
        inp,
        tariffs={**inp.tariffs, HEATING: Decimal("2611.43")},
        premises=premises,
        house_meters=house_meters,
        house_registers=registers,
    )


@pytest.fixture(scope="module")
def city() -> BillingResult:
    """Every method, second risers (lines of several meters), house rows: bench data."""
    return bill(_with_heating(synthetic(1500, 3)))


def test_bench_city_reads_as_before(city: BillingResult) -> None:
    assert set(city.accruals.method.tolist()) == set(range(9))
    _same(city)


def test_lines_in_any_order_read_as_before(city: BillingResult) -> None:
    """Lines not in runs of one service and method are grouped, then put back in order."""
    a = city.accruals
    order = np.random.default_rng(7).permutation(a.period.size)
    shuffled = dataclasses.replace(
        a, **{f.name: getattr(a, f.name)[order] for f in dataclasses.fields(a)}
    )
    result = dataclasses.replace(city, accruals=shuffled)
    _same(result)
    in_order = explanations(city)
    assert explanations(result) == [in_order[i] for i in order.tolist()]


def test_water_sum_over_unequal_denominators(city: BillingResult) -> None:
    """Sewage adds cold and hot water exactly even when their lines use other denominators."""
    a = city.accruals
    water = np.isin(a.service, (CW, HW))
    num = np.where(water, a.num * 3, a.num)
    den = np.where(water, a.den * 3, a.den)
    den[np.flatnonzero(water)[::2]] //= 3
    num[np.flatnonzero(water)[::2]] //= 3
    result = dataclasses.replace(city, accruals=dataclasses.replace(a, num=num, den=den))
    _same(result)


def test_no_lines() -> None:
    result = bill(synthetic(20, 1))
    a = result.accruals
    empty = dataclasses.replace(
        a, **{f.name: getattr(a, f.name)[:0] for f in dataclasses.fields(a)}
    )
    assert explanations(dataclasses.replace(result, accruals=empty)) == []


@settings(max_examples=300, deadline=None)
@given(units=st.lists(INT64, max_size=20), scale=st.integers(0, 20))
def test_fixed_numbers_print_as_ru(units: list[int], scale: int) -> None:
    got = fixed_texts(np.array(units, dtype=np.int64), scale, "<", ">")
    assert got == [f"<{ru(Decimal(u).scaleb(-scale))}>" for u in units]


@pytest.mark.parametrize("magnitude", [9, 999, 10**3, 10**6 - 1, 10**6, 10**12])
@pytest.mark.parametrize("scale", [0, 2, 3, 5])
def test_fixed_numbers_around_group_bounds(magnitude: int, scale: int) -> None:
    units = np.array([0, 1, -1, magnitude, -magnitude, magnitude * 10**scale + 7], dtype=np.int64)
    want = [ru(Decimal(int(u)).scaleb(-scale)) for u in units.tolist()]
    assert fixed_texts(units, scale) == want


@settings(max_examples=300, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(
            st.one_of(st.integers(-(10**13), 10**13), INT64),
            st.one_of(st.sampled_from([1, 3, 1000, 6 * 10**7, 10**13]), st.integers(1, 2**63 - 1)),
        ),
        max_size=20,
    )
)
def test_volumes_print_as_ru(pairs: list[tuple[int, int]]) -> None:
    num = np.array([n for n, _ in pairs], dtype=np.int64)
    den = np.array([d for _, d in pairs], dtype=np.int64)
    assert volume_texts(num, den) == [ru(Fraction(n, d)) for n, d in pairs]


@pytest.mark.parametrize("den", [1, 7, 1000, 60_000_000])
def test_volumes_over_one_denominator(den: int) -> None:
    num = np.random.default_rng(den).integers(-(10**12), 10**12, 500)
    num[:3] = (0, den * 5_700, -den * 6_040)
    want = [ru(Fraction(int(n), den)) for n in num.tolist()]
    assert volume_texts(num, den) == want
    assert volume_texts(num, np.full(num.size, den, dtype=np.int64)) == want


def test_grouped_thousands() -> None:
    assert grouped(np.array([0, 999, 1000, 123456, 1234567], dtype=np.int64)) == [
        "0",
        "999",
        "1 000",
        "123 456",
        "1 234 567",
    ]


@pytest.mark.parametrize("wide", [False, True])
def test_row_keys_match_equal_rows(wide: bool) -> None:
    """Equal rows get equal keys, others differ, also past int64 mixed radix (dense ranks)."""
    rng = np.random.default_rng(1)
    big = 2**40 if wide else 10
    left = [rng.integers(0, 4, 300) * big, rng.integers(0, 4, 300) * big, rng.integers(0, 3, 300)]
    right = [c[::-1].copy() for c in left]
    kl, kr = row_keys(left, right)
    rows_l = list(zip(*(c.tolist() for c in left), strict=True))
    rows_r = list(zip(*(c.tolist() for c in right), strict=True))
    for i in range(0, 300, 7):
        for j in range(0, 300, 11):
            assert (kl[i] == kr[j]) == (rows_l[i] == rows_r[j])


def test_sewage_meter_without_readings_by_water_normatives() -> None:
    """A sewage meter without readings bills cold + hot water normatives (6.935 + 4.745)."""
    inp = synthetic(300, 2)
    mt = inp.meters
    owners = np.arange(0, 300, 6, dtype=np.int64)
    meters = Meters(
        [*mt.ids, *(f"sew{i}" for i in owners.tolist())],
        np.concatenate([mt.owner, owners]),
        np.concatenate([mt.service, np.full(owners.size, SEWAGE, dtype=np.int64)]),
        np.concatenate([mt.installed, np.full(owners.size, NO_INSTALL, dtype=np.int64)]),
    )
    result = bill(dataclasses.replace(inp, meters=meters))
    _same(result)
    texts = explanations(result)
    sewage = [t for t in texts if t.startswith("Водоотведение по нормативу: прибор sew")]
    assert len(sewage) == owners.size
    assert all("× 11,680 м³" in t for t in sewage)
