"""``uchet bill-case``: JSON on stdout, or one line on stderr naming what is wrong."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from api.cli import main

CASE = json.loads((Path(__file__).parent / "cases" / "basic-house.json").read_text("utf-8"))


def _run(tmp_path: Path, case: Any, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    path = tmp_path / "case.json"
    path.write_text(case if isinstance(case, str) else json.dumps(case), encoding="utf-8")
    code = main(["bill-case", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_bills_a_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(tmp_path, CASE, capsys)
    assert code == 0, err
    doc = json.loads(out)
    assert len(doc["houses"]) == 6
    assert all(line["explanation"] for line in doc["accruals"])


def _broken(change: Any) -> dict[str, Any]:
    case = copy.deepcopy(CASE)
    change(case)
    return case


ERRORS = [
    ("unknown house", lambda c: c["premises"][1].update(house="h9"), ["apt2", "h9"]),
    ("unknown tariff service", lambda c: c["tariffs"].update(water="1"), ["tariffs", "water"]),
    (
        "unknown meter service",
        lambda c: c["premises"][0]["meters"][0].update(service="steam"),
        ["apt1-cw", "steam"],
    ),
    (
        "unknown normative override",
        lambda c: c["premises"][0].update(normatives={"coldwater": "5"}),
        ["apt1", "coldwater"],
    ),
    (
        "reading not a number",
        lambda c: c["premises"][2]["meters"][1]["readings"][1].__setitem__(1, "89O5"),
        ["apt3-el", "reading 2", "89O5"],
    ),
    ("period not YYYY-MM", lambda c: c.update(period="2026-3"), ["period", "2026-3"]),
    ("start_period not YYYY-MM", lambda c: c.update(start_period="26-01"), ["start_period"]),
    ("period before start", lambda c: c.update(period="2025-12"), ["start_period", "2025-12"]),
    (
        "decrease without capacity_digits",
        lambda c: c["premises"][0]["meters"][2]["readings"][2].__setitem__(1, "15000"),
        ["apt1-el", "reading 3", "capacity_digits"],
    ),
    (
        "missing normative",
        lambda c: c["normatives"].pop("hot_water"),
        ["apt2", "hot_water", "normative"],
    ),
]


@pytest.mark.parametrize(("change", "names"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors_name_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, names: list[str]
) -> None:
    code, out, err = _run(tmp_path, _broken(change), capsys)
    assert code != 0
    assert out == ""
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    for name in names:
        assert name in err


def test_not_json_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(tmp_path, '{\n"period": "2026-01",\n}', capsys)
    assert code != 0 and "line 3" in err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bill-case", str(tmp_path / "nope.json")]) != 0
    assert "nope.json" in capsys.readouterr().err
