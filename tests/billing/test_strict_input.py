"""Strict input: a case file (``uchet bill-case``) and the reference file (``uchet load``, the
API's reference upload) refuse what no real house has, naming the field; never a traceback."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from adapters.billing import parse_reference
from api.cli import main
from core.errors import BillingError

CASE = json.loads((Path(__file__).parent / "cases" / "basic-house.json").read_text("utf-8"))


def _broken(change: Any) -> dict[str, Any]:
    case = copy.deepcopy(CASE)
    change(case)
    return case


def _premise(key: str, value: Any) -> Any:
    return lambda c: c["premises"][0].update({key: value})


def _meter(key: str, value: Any) -> Any:
    return lambda c: c["premises"][0]["meters"][0].update({key: value})


def _reading(value: Any, n: int = 0) -> Any:
    return lambda c: c["premises"][0]["meters"][0]["readings"][n].__setitem__(0, value)


CASE_ERRORS = [
    ("misspelled tariffs", lambda c: c.update(tarifs=c.pop("tariffs")), ["case", "'tarifs'"]),
    ("misspelled residents", _premise("resident", 3), ["premise apt1", "'resident'"]),
    ("unknown meter key", _meter("digits", 5), ["apt1-cw", "'digits'"]),
    ("unknown house key", lambda c: c["houses"][0].update(area="1"), ["house h1", "'area'"]),
    ("unknown setting", lambda c: c.update(settings={"window": 6}), ["settings", "'window'"]),
    ("zero area", _premise("area", "0"), ["apt1", "area", "greater than 0"]),
    ("negative area", _premise("area", "-60"), ["apt1", "area"]),
    ("float area", _premise("area", 60.4), ["apt1", "area", "decimal string"]),
    ("area past a million m²", _premise("area", "1000000.1"), ["apt1", "area", "limit"]),
    ("area with 5 decimals", _premise("area", "60.12345"), ["apt1", "area", "4 decimals"]),
    (
        "negative common area",
        lambda c: c["houses"][0].update(common_area="-1"),
        ["h1", "common_area"],
    ),
    ("negative tariff", lambda c: c["tariffs"].update(sewage="-40"), ["tariffs.sewage"]),
    ("tariff 1e20", lambda c: c["tariffs"].update(sewage="1e20"), ["tariffs.sewage", "limit"]),
    ("float tariff", lambda c: c["tariffs"].update(sewage=40.05), ["tariffs.sewage", "string"]),
    (
        "negative coefficient",
        lambda c: c.update(settings={"increasing_coefficient": "-1.5"}),
        ["increasing_coefficient"],
    ),
    ("capacity 0", _meter("capacity_digits", 0), ["apt1-cw", "capacity_digits", "1..12"]),
    ("capacity -1", _meter("capacity_digits", -1), ["apt1-cw", "capacity_digits"]),
    ("capacity 13", _meter("capacity_digits", 13), ["apt1-cw", "capacity_digits"]),
    ("residents 1e20", _premise("residents", 1e20), ["apt1", "residents"]),
    ("residents 10**20", _premise("residents", 10**20), ["apt1", "residents", "0..10000"]),
    ("negative owners", _premise("owners", -1), ["apt1", "owners"]),
    ("reading in 9999", _reading("9999-12-31T23:59:59-01:00"), ["apt1-cw", "reading 1", "9999"]),
    ("reading in year 1", _reading("0001-01-01"), ["apt1-cw", "reading 1", "0001"]),
    ("period 9999", lambda c: c.update(period="9999-12"), ["period", "9999-12"]),
    (
        "reading past capacity",
        lambda c: c["premises"][0]["meters"][0].update(capacity_digits=1),
        ["apt1-cw", "1 digits"],
    ),
    ("window 0", lambda c: c.update(settings={"average_window_months": 0}), ["window"]),
]


@pytest.mark.parametrize(
    ("change", "names"), [e[1:] for e in CASE_ERRORS], ids=[e[0] for e in CASE_ERRORS]
)
def test_case_errors_name_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, names: list[str]
) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(_broken(change)), encoding="utf-8")
    code = main(["bill-case", str(path)])
    out, err = capsys.readouterr()
    assert code != 0
    assert out == ""
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    for name in names:
        assert name in err, err


REFERENCE: dict[str, Any] = {
    "source": "mqtt",
    "houses": [{"id": "h1", "common_area": "600", "meters": []}],
    "premises": [
        {
            "id": "p1",
            "house": "h1",
            "area": "60.4",
            "residents": 2,
            "meters": [{"meter": "m1", "channel": "cold_water", "capacity_digits": 5}],
        }
    ],
    "tariffs": [{"valid_from": "2026-01", "cold_water": "50.00"}],
    "normatives": [{"valid_from": "2026-01", "cold_water": "6.935"}],
}


def _ref(change: Any) -> dict[str, Any]:
    doc = copy.deepcopy(REFERENCE)
    change(doc)
    return doc


REFERENCE_ERRORS = [
    ("misspelled residents", lambda d: d["premises"][0].update(resident=3), ["p1", "'resident'"]),
    ("zero area", lambda d: d["premises"][0].update(area="0"), ["p1", "area"]),
    ("float area", lambda d: d["premises"][0].update(area=60.4), ["p1", "area", "string"]),
    ("residents 1e20", lambda d: d["premises"][0].update(residents=10**20), ["residents"]),
    (
        "capacity 0",
        lambda d: d["premises"][0]["meters"][0].update(capacity_digits=0),
        ["m1", "capacity_digits"],
    ),
    (
        "tariff 1e20",
        lambda d: d["tariffs"][0].update(cold_water="1e20"),
        ["tariffs[0].cold_water", "limit"],
    ),
    (
        "negative normative",
        lambda d: d["normatives"][0].update(cold_water="-1"),
        ["normatives[0].cold_water"],
    ),
    (
        "common area float",
        lambda d: d["houses"][0].update(common_area=600.5),
        ["h1", "common_area"],
    ),
    (
        "installed in 9999",
        lambda d: d["premises"][0]["meters"][0].update(installed="9999-01-01"),
        ["m1", "installed", "9999"],
    ),
]


def test_reference_accepts_the_good_file() -> None:
    data = parse_reference(copy.deepcopy(REFERENCE))
    assert [p.id for p in data.premises] == ["p1"]


@pytest.mark.parametrize(
    ("change", "names"),
    [e[1:] for e in REFERENCE_ERRORS],
    ids=[e[0] for e in REFERENCE_ERRORS],
)
def test_reference_errors_name_the_field(change: Any, names: list[str]) -> None:
    with pytest.raises(BillingError) as exc:
        parse_reference(_ref(change), name="ref.json")
    for name in names:
        assert name in str(exc.value), str(exc.value)


def test_uchet_load_refuses_before_touching_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = _ref(lambda d: d["premises"][0].update(residents=1e20, area=60.4))
    path = tmp_path / "ref.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    code = main(["load", str(path)])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    assert "ref.json" in err and "p1" in err and "area" in err
