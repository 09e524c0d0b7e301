"""Every shared case billed exactly as its expected output (and by the reference biller)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.billing.case import bill_case
from tests.billing.reference import expected_output

CASES = Path(__file__).parent / "cases"
NAMES = sorted(p.name.removesuffix(".expected.json") for p in CASES.glob("*.expected.json"))
ZERO = ("0.000000", "0.00")


def _lines(lines: list[dict[str, Any]]) -> dict[tuple[str, ...], tuple[str, ...]]:
    return {
        (x["period"], x["premise"], x["service"], x["method"]): (
            x["volume"],
            x["amount"],
            x["tariff"],
            x["coefficient"],
        )
        for x in lines
    }


def _same(
    got: dict[tuple[str, ...], tuple[str, ...]], want: dict[tuple[str, ...], tuple[str, ...]]
) -> list[str]:
    """Differences, a missing line counting as volume 0 and amount 0."""
    diffs = []
    for key in sorted(set(got) | set(want)):
        g, w = got.get(key), want.get(key)
        if g is None or w is None:
            present = g or w
            assert present is not None
            if present[:2] != ZERO:
                diffs.append(f"{key}: got {g}, want {w}")
        elif g != w:
            diffs.append(f"{key}: got {g}, want {w}")
    return diffs


def _load(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    case = json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))
    expected = json.loads((CASES / f"{name}.expected.json").read_text(encoding="utf-8"))
    return case, expected


def test_cases_found() -> None:
    assert {"basic-house", "rollover-new-meter", "soi-cap"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_core_matches_expected(name: str) -> None:
    case, expected = _load(name)
    out = bill_case(case)
    assert _same(_lines(out["accruals"]), _lines(expected["accruals"])) == []
    key = lambda r: (r["period"], r["house"], r["service"])  # noqa: E731
    assert sorted(out["houses"], key=key) == sorted(expected["houses"], key=key)
    for line in out["accruals"]:
        assert line["explanation"].strip(), line


@pytest.mark.parametrize("name", NAMES)
def test_reference_matches_expected(name: str) -> None:
    case, expected = _load(name)
    lines, houses = expected_output(case)
    assert _same(lines, _lines(expected["accruals"])) == []
    fields = (
        "house_volume",
        "individual_volume",
        "excess_volume",
        "distributed_volume",
        "operator_volume",
    )
    want = {
        (r["period"], r["house"], r["service"]): tuple(r[f] for f in fields)
        for r in expected["houses"]
    }
    assert houses == want


def test_explanation_shows_the_formula() -> None:
    case, _ = _load("basic-house")
    out = bill_case(case)
    line = next(
        x
        for x in out["accruals"]
        if (x["period"], x["premise"], x["service"]) == ("2026-03", "apt1", "cold_water")
        and x["method"] == "meter"
    )
    assert "227,000" in line["explanation"] and "221,300" in line["explanation"]
    assert "5,700 м³" in line["explanation"] and "285,00 ₽" in line["explanation"]
    recalc = next(x for x in out["accruals"] if x["method"] == "recalculation")
    assert "−6,040" in recalc["explanation"] and "2 мес." in recalc["explanation"]
