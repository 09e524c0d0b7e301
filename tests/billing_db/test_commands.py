"""``uchet load`` and ``uchet bill`` as an operator runs them: the documented example file,
reports on stdout, one-line errors that name what is wrong and leave the store unchanged."""

from __future__ import annotations

import asyncio
import copy
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from api.cli import main
from tests.billing_db.convert import ingest
from tests.billing_db.helpers import fetch

pytestmark = pytest.mark.postgres

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "house.json"
MSK = ZoneInfo("Europe/Moscow")


@pytest.fixture
def store(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    monkeypatch.setenv("UCHET_TIMEZONE", "Europe/Moscow")
    assert main(["migrate"]) == 0
    capsys.readouterr()
    return db_url


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _count(url: str, table: str) -> int:
    rows = asyncio.run(fetch(url, f"SELECT count(*) AS n FROM {table}"))
    return int(rows[0]["n"])


def test_load_the_example_then_bill(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["load", str(EXAMPLE)], capsys)
    assert code == 0, err
    assert "дома:            создано 1, изменено 0, без изменений 0" in out
    assert "помещения:       создано 4," in out
    assert "счётчики:        создано 8," in out
    assert "тарифы:          создано 6," in out
    code, out, err = _run(["load", str(EXAMPLE)], capsys)
    assert "помещения:       создано 0, изменено 0, без изменений 4" in out

    def at(day: str) -> datetime:
        return datetime.fromisoformat(day).replace(tzinfo=MSK)

    readings = [
        ("apt1-cw", "cold_water", at("2026-02-22"), 210.4),
        ("apt1-cw", "cold_water", at("2026-03-22"), 216.1),
        ("apt1-el", "1-0:1.8.0", at("2026-02-22"), 15230.0),
        ("apt1-el", "1-0:1.8.0", at("2026-03-22"), 15410.0),
        ("h1-el", "1-0:1.8.0", at("2026-02-28T23:00"), 100000.0),
        ("h1-el", "1-0:1.8.0", at("2026-03-31T23:00"), 112000.0),
    ]
    asyncio.run(ingest(store, readings))
    code, out, err = _run(["bill", "--period", "2026-03"], capsys)
    assert code == 0, err
    assert "начисления за 2026-03 (запуск 1): помещений 4, счётчиков 8" in out
    assert "время: загрузка" in out and "запись" in out and "строк/с" in out
    lines = asyncio.run(
        fetch(store, "SELECT * FROM accruals WHERE premise_id = 'h1-1' ORDER BY service, method")
    )
    got = {(r["service"], r["method"]): (str(r["volume"]), str(r["amount"])) for r in lines}
    assert got[("cold_water", "meter")] == ("5.700000", "285.00")
    assert got[("electricity", "meter")] == ("180.000000", "900.00")
    # the service totals printed are the sums of the stored amounts
    for service, name in (
        ("cold_water", "холодная вода"),
        ("electricity", "электроэнергия"),
        ("hot_water", "горячая вода"),
        ("sewage", "водоотведение"),
    ):
        rows = asyncio.run(
            fetch(store, "SELECT sum(amount) AS s FROM accruals WHERE service = $1", service)
        )
        printed = f"{rows[0]['s']:,.2f}".replace(",", " ")
        assert any(
            line.startswith(f"  {name} ") and line.endswith(printed) for line in out.splitlines()
        )
    code, out, err = _run(["bill", "--period", "2026-03", "--lines"], capsys)
    assert code == 0, err
    assert "h1-1\tcold_water\tmeter\t5.700000\t50.00\t1\t285.00\tХВС по прибору учёта" in out
    assert "начисления за 2026-03 (запуск 2)" in out
    assert _count(store, "billing_runs") == 2
    # no bar on a pipe; with UCHET_PROGRESS=1 the bar of the four stages ends done; with
    # --progress each step is a line with its time instead; stdout is the same either way
    assert "начисления" not in err
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UCHET_PROGRESS", "1")
        code, again, err = _run(["bill", "--period", "2026-03"], capsys)
        assert code == 0, err
        bar = [s for s in re.split(r"[\r\n]", err) if s.startswith("начисления 2026-03")]
        assert bar and "100%" in bar[-1] and "готово" in bar[-1], err
        code, timed, err = _run(["bill", "--period", "2026-03", "--progress"], capsys)
    assert code == 0, err
    assert "начисления" not in err
    steps = err.splitlines()
    assert all(re.match(r"\[ *[0-9.]+ s\] ", s) for s in steps), err
    assert len(steps) == 5 and "загрузка помещений" in steps[0] and steps[-1].endswith("записано")
    summary = out[out.index("начисления за 2026-03") :].split("время:")[0]
    assert again.split("время:")[0] == summary.replace("запуск 2", "запуск 3")
    assert timed.split("время:")[0] == summary.replace("запуск 2", "запуск 4")
    # the store's commands speak Russian too (their --json stays the machine format)
    code, out, err = _run(["migrate"], capsys)
    assert code == 0 and ": применять нечего\n" in out and out.startswith("версия схемы "), err
    code, out, err = _run(["stats"], capsys)
    assert code == 0 and "показаний: 6\n" in out and "в карантине: нет\n" in out, err


def _broken(change: Any) -> dict[str, Any]:
    doc = json.loads(EXAMPLE.read_text("utf-8"))
    doc = copy.deepcopy(doc)
    change(doc)
    return doc


LOAD_ERRORS = [
    (lambda d: d["premises"][1].update(house="h9"), ["premise h1-2", "unknown house 'h9'"]),
    (lambda d: d["premises"][0].update(area=60.4), ["premise h1-1: area", "60.4"]),
    (
        lambda d: d["tariffs"][0].update(water="1"),
        ["tariffs[0]", "unknown service 'water'"],
    ),
    (lambda d: d["tariffs"][1].update(valid_from="2026-7"), ["tariffs[1]: valid_from", "2026-7"]),
    (
        lambda d: d["premises"][0]["meters"][0].update(channel="steam"),
        ["premise h1-1: meters[0] (meter apt1-cw)", "steam"],
    ),
    (lambda d: d["premises"][2].update(id="h1-1"), ["premise h1-1 appears more than once"]),
    (lambda d: d["premises"][3].update(residents=-1), ["premise h1-shop: residents"]),
]


@pytest.mark.parametrize(("change", "words"), LOAD_ERRORS)
def test_load_refuses_a_bad_file_whole(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, words: list[str]
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_broken(change)), encoding="utf-8")
    code, _out, err = _run(["load", str(path)], capsys)
    assert code == 2
    assert str(path) in err
    for word in words:
        assert word in err
    assert _count(store, "premises") == 0 and _count(store, "houses") == 0


def test_load_lists_every_problem(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def two(d: dict[str, Any]) -> None:
        d["premises"][0].update(area="sixty")
        d["soi_normatives"][0].update(gas="1")

    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_broken(two)), encoding="utf-8")
    code, _, err = _run(["load", str(path)], capsys)
    assert code == 2
    assert "2 problem(s)" in err and "'sixty'" in err and "no СОИ lines for gas" in err


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["bill", "--period", "2026-3"], ["--period", "'2026-3'", "YYYY-MM"]),
        (["bill", "--period", "2026-13"], ["--period", "'2026-13'"]),
        (["bill", "--period", "2026-03"], ["no tariffs valid in 2026-03", "uchet load"]),
    ],
)
def test_bill_errors(
    store: str, capsys: pytest.CaptureFixture[str], argv: list[str], words: list[str]
) -> None:
    code, _out, err = _run(argv, capsys)
    assert code == 2
    assert err.count("\n") == 1
    for word in words:
        assert word in err
    assert _count(store, "billing_runs") == 0


def test_bill_without_premises(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rates.json"
    path.write_text(json.dumps({"tariffs": [{"valid_from": "2026-01", "gas": "8.00"}]}), "utf-8")
    assert main(["load", str(path)]) == 0
    code, _, err = _run(["bill", "--period", "2026-03"], capsys)
    assert code == 2 and "no premises" in err
    # a tariff valid only from a later month is not valid for an earlier one
    code, _, err = _run(["bill", "--period", "2025-12"], capsys)
    assert code == 2 and "no tariffs valid in 2025-12" in err
