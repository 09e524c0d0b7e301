"""The debtors' exports never hand a spreadsheet a formula: account numbers and addresses come
from outside (bank files, registers), so text that starts like a formula is kept as text."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from api.routes.ledger_data import debtors_csv, debtors_xlsx
from core.ledger.aging import BUCKET_NAMES, Debtor

HOSTILE = Debtor(
    account='=HYPERLINK("http://evil","x")',
    house="+h1",
    address="=1+2",
    debt=150_000,
    penalty_due=1_234,
    closing_balance=150_000,
    oldest_delay_days=95,
    buckets={k: (150_000 if i == 2 else 0) for i, k in enumerate(BUCKET_NAMES)},
)


def test_csv_keeps_formula_like_text_as_text() -> None:
    text = debtors_csv([HOSTILE]).decode("utf-8-sig")
    row = text.splitlines()[1].split(";")
    assert row[2] == "'=1+2" and row[1] == "'+h1"
    assert not any(cell.startswith(("=", "+", "@")) for cell in row)
    assert "1500,00" in row  # money stays a number with a decimal comma


def test_xlsx_has_no_formula_cells() -> None:
    book = load_workbook(io.BytesIO(debtors_xlsx([HOSTILE], "Должники")))
    sheet = book.active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows(min_row=3) for c in row]
    assert all(c.data_type != "f" for c in cells)
    assert [c.value for c in cells[:3]] == ["'" + HOSTILE.account, "'+h1", "'=1+2"]
    assert cells[3].value == 1500  # the debt is a number, not text
