"""``uchet reconcile`` over a real PostgreSQL store: the documented example house, a register
that differs from it in known ways, bad rows named with file and row, decisions recorded."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from api.cli import main

pytestmark = pytest.mark.postgres

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "house.json"
REGISTER = """Адрес;Номер помещения;Площадь;Назначение;Собственников;Зарегистрировано
"Тверь г, Советская ул, 10";1;60,4;жилое;1;2
"г. Тверь, ул. Советская, д. 10";кв. 2;55;жилое помещение;2;3
"Тверь, Советская улица, дом 10";3;75;Жилое;1;2
"г. Тверь, ул. Советкая, д. 10";5;38,5;жилое;1;1
"г. Тверь, ул. Советская, д. 10";6;abc;жилое;;
"г. Тверь, ул. Советская, д. 10";1Н;120;нежилое;1;
"""


@pytest.fixture
def store(db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> str:
    monkeypatch.setenv("UCHET_DATABASE_URL", db_url)
    assert main(["migrate"]) == 0
    assert main(["load", str(EXAMPLE)]) == 0
    capsys.readouterr()
    return db_url


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_import_report_and_decisions(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "register.csv"
    path.write_bytes(REGISTER.encode("windows-1251"))
    code, out, err = _run(["reconcile", "import", str(path)], capsys)
    assert code == 0, err
    assert "помещений 5, строк с ошибками 1" in out
    assert "register.csv, row 6: area 'abc' in column 'Площадь' is not a number" in out

    out_csv = tmp_path / "findings.csv"
    argv = ["reconcile", "report", "--on", "2026-03-01", "--csv", str(out_csv)]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    assert "реестр register.csv: строк 5, сопоставлено 3 из 4 помещений" in out
    assert "строка с ошибкой: register.csv, row 6" in out
    with out_csv.open(encoding="utf-8") as f:
        found = list(csv.DictReader(f))
    kinds = [(r["kind"], r["premise"] or r["register_row"]) for r in found]
    # h1-3: residents 0 -> 2 (owners 1): 1 more person × hot water 4.745 × 210.00 (its cold
    # water and electricity are metered; sewage has no normative)
    residents = next(r for r in found if r["kind"] == "residents")
    assert (residents["premise"], residents["money_rub_month"]) == ("h1-3", "996.45")
    area = next(r for r in found if r["kind"] == "area")
    assert area["premise"] == "h1-2" and "площадь 45 м² в учёте, 55 м² в реестре" in area["detail"]
    assert ("unbilled", "register.csv, row 5") in kinds  # «Советкая»: a typo, still the house
    review = next(r for r in found if r["kind"] == "review")
    assert review["premise"] == "h1-shop"
    moneys = [float(r["money_rub_month"]) for r in found]
    assert moneys == sorted(moneys, reverse=True)

    # the operator confirms the shop and checks the unbilled flat: both leave the report
    unbilled = next(r for r in found if r["kind"] == "unbilled")
    assert _run(["reconcile", "confirm", review["key"], "h1-shop"], capsys)[0] == 0
    assert _run(["reconcile", "check", "unbilled", unbilled["key"]], capsys)[0] == 0
    code, out, err = _run(argv, capsys)
    with out_csv.open(encoding="utf-8") as f:
        kinds_after = {r["kind"] for r in csv.DictReader(f)}
    assert kinds_after == {"area", "residents"}, out
    assert "сопоставлено 4 из 4 помещений" in out

    code, _, err = _run(["reconcile", "confirm", review["key"], "nope"], capsys)
    assert code == 2 and "нет помещения 'nope'" in err


def test_report_without_a_register(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(["reconcile", "report"], capsys)
    assert code == 2 and "uchet reconcile import" in err


def test_a_mapped_column_missing_stops_the_file(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "other.csv"
    path.write_text("Адрес;Квартира\nТверь;1\n", encoding="utf-8")
    code, _, err = _run(["reconcile", "import", str(path)], capsys)
    assert code == 2 and "other.csv, row 1" in err and "'Номер помещения'" in err
