"""``uchet ledger-case``: the shared case gives its expected output; errors name what is wrong."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from api.cli import main
from tests.conftest import SHARED

CASES = SHARED / "ledger-cases"
_ABSENT = f"needs the ledger cases in {CASES} (../shared beside the repository)"


def _shared(name: str) -> Any:
    path = CASES / name
    if not path.is_file():
        pytest.skip(_ABSENT)
    return json.loads(path.read_text("utf-8"))


def _run(tmp_path: Path, case: Any, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    path = tmp_path / "case.json"
    path.write_text(case if isinstance(case, str) else json.dumps(case), encoding="utf-8")
    code = main(["ledger-case", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def test_basic_account_gives_the_expected_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = _shared("basic-account.json")
    expected = _shared("basic-account.expected.json")
    code, out, err = _run(tmp_path, case, capsys)
    assert code == 0, err
    assert json.loads(out) == expected


def _broken(change: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    case = copy.deepcopy(_shared("basic-account.json"))
    change(case)
    return case


def _account(case: dict[str, Any]) -> dict[str, Any]:
    account: dict[str, Any] = case["accounts"][0]
    return account


ERRORS: list[tuple[str, Callable[[dict[str, Any]], object], list[str]]] = [
    ("unknown field", lambda c: c.update(extra=1), ["unknown field", "extra"]),
    (
        "unknown payment field",
        lambda c: _account(c)["payments"][0].update(note="x"),
        ["payment", "note"],
    ),
    (
        "one decimal",
        lambda c: _account(c)["payments"][0].update(amount="3000.0"),
        ["payment p1", "amount", "3000.0"],
    ),
    (
        "money as a number",
        lambda c: _account(c)["charges"][0].__setitem__(1, 3210.44),
        ["account 100001", "2026-01", "3210.44"],
    ),
    (
        "date that does not exist",
        lambda c: _account(c)["payments"][0].update(date="2026-02-30"),
        ["payment p1", "2026-02-30"],
    ),
    (
        "payment after as_of",
        lambda c: _account(c)["payments"][3].update(date="2026-07-01"),
        ["payment p4", "after as_of"],
    ),
    (
        "amount not above zero",
        lambda c: _account(c)["payments"][0].update(amount="0.00"),
        ["payment p1", "not above zero"],
    ),
    (
        "repeated payment id",
        lambda c: _account(c)["payments"][1].update(id="p1"),
        ["payment p1", "twice"],
    ),
    (
        "period twice",
        lambda c: _account(c)["charges"].append(["2025-12", "10.00"]),
        ["account 100001", "2025-12", "twice"],
    ),
    (
        "statement after as_of",
        lambda c: c["statements"].append("2026-07"),
        ["2026-07", "after as_of"],
    ),
    (
        "key rates start too late",
        lambda c: c.update(key_rates=[["2026-05-01", "9.00"]]),
        ["account 100001", "no key rate in force on 2026-"],
    ),
    (
        "grace not below the second stage",
        lambda c: c.update(settings={"grace_days": 91}),
        ["grace_days", "second_stage_day"],
    ),
]


@pytest.mark.parametrize(("name", "change", "words"), ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_name_what_is_wrong(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    change: Callable[[dict[str, Any]], object],
    words: list[str],
) -> None:
    code, out, err = _run(tmp_path, _broken(change), capsys)
    assert code != 0, name
    assert out == ""
    assert err.count("\n") == 1, err
    for word in words:
        assert word in err, (word, err)


def test_not_json_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(tmp_path, '{\n"as_of": }', capsys)
    assert code != 0
    assert "line 2" in err and "not JSON" in err
