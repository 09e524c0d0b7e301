"""Reading property registers through the shipped mappings: XLSX and CSV, bad rows named."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from adapters.property import find_property_mapping, read_property_register
from adapters.registers.errors import RegisterFileError


def test_egrn_workbook(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["Кадастровый номер", "Адрес (местоположение)", "Номер помещения", "Площадь, м2",
               "Назначение", "Правообладатель"])  # fmt: skip
    ws.append(["73:24:041201:123", "г. Симбирск, ул. Моделируемая, д. 44", "2", 60.4,
               "Жилое помещение", "Иванов И. И.; Иванова А. П."])  # fmt: skip
    ws.append(["73:24:041201:124", "г. Симбирск, ул. Моделируемая, д. 44", "1Н", "-5",
               "Гараж", ""])  # fmt: skip
    ws.append([None] * 6)
    ws.append(["73:24:041201:125", "", "3", "40", "Нежилое", "ООО «Ромашка»"])
    path = tmp_path / "egrn.xlsx"
    book.save(path)
    got = read_property_register(path, find_property_mapping("egrn_premises", None))
    assert len(got.rows) == 1
    row = got.rows[0]
    assert (row.cadastral, row.premise, row.area, row.residential, row.owners, row.line) == (
        "73:24:041201:123", "2", Decimal("60.4"), True, 2, 2,
    )  # fmt: skip
    assert [line for line, _ in got.problems] == [3, 5]
    assert "egrn.xlsx, row 3: area '-5' in column 'Площадь, м2'" in got.problems[0][1]
    assert "purpose 'Гараж'" in got.problems[0][1]
    assert "egrn.xlsx, row 5: no address in column 'Адрес (местоположение)'" in got.problems[1][1]


def test_counts_must_be_whole_numbers(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text(
        "Адрес;Номер помещения;Площадь;Назначение;Зарегистрировано\n"
        "Симбирск, Моделируемая, 44;2;60,4;жилое;2,5\n"
        "Симбирск, Моделируемая, 44;3;1 060,4;жилое;3\n",
        encoding="utf-8",
    )
    got = read_property_register(path, find_property_mapping("municipal_premises", None))
    assert got.problems == [
        (2, "m.csv, row 2: residents '2,5' in column 'Зарегистрировано' is not a whole number"
            " 0-10000")
    ]  # fmt: skip
    assert got.rows[0].area == Decimal("1060.4") and got.rows[0].residents == 3


def test_a_workbook_that_is_not_one(tmp_path: Path) -> None:
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(RegisterFileError, match=r"bad\.xlsx"):
        read_property_register(path, find_property_mapping("egrn_premises", None))


def test_a_stray_carriage_return_is_a_named_file_error(tmp_path: Path) -> None:
    path = tmp_path / "cr.csv"
    path.write_bytes(b"\xd0\x90\xd0\xb4\xd1\x80\xd0\xb5\xd1\x81;x\na\rb;1\n")
    with pytest.raises(RegisterFileError, match=r"cr\.csv"):
        read_property_register(path, find_property_mapping("municipal_premises", tmp_path))
