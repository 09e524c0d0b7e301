"""The reconciliation report's findings as files: CSV (machine-readable, English column names,
stable) and XLSX for people (Russian headers and kinds, money as numbers in ₽ with kopecks).
Text that came from a register (addresses, premise numbers) is never a formula to a
spreadsheet (:mod:`core.cells`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import TextIO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from core.cells import safe_cell
from core.reconcile import Finding

CSV_COLUMNS = (
    "rank", "kind", "money_rub_month", "house", "premise", "account", "register_row",
    "address", "score", "detail", "key",
)  # fmt: skip
KIND_NAMES = {
    "unbilled": "Нет лицевого счёта",
    "unregistered": "Нет в реестре",
    "area": "Расходится площадь",
    "purpose": "Расходится назначение",
    "residents": "Расходится число проживающих",
    "review": "Проверить сопоставление",
    "duplicate": "Повтор строки реестра",
}
XLSX_HEADERS = (
    "№", "Вид расхождения", "Сумма в месяц, ₽", "Дом", "Помещение", "Лицевой счёт",
    "Строка реестра", "Адрес в реестре", "Сходство адреса, %", "Подробности", "Ключ",
    "Дом с неучтённым потреблением",
)  # fmt: skip
_WIDTHS = (7, 28, 16, 12, 16, 16, 26, 50, 12, 70, 40, 14)


def write_csv(findings: Iterable[Finding], out: TextIO, *, start: int = 1) -> int:
    """Writes the findings (ranked from ``start``) with a header; how many were written."""
    w = csv.writer(out)
    w.writerow(CSV_COLUMNS)
    n = 0
    for n, x in enumerate(findings, start=start):
        w.writerow(
            map(safe_cell, (n, x.kind, x.money, x.house_id or "", x.premise_id or "",
                            x.account or "", x.where, x.address, f"{x.score:.0f}", x.detail,
                            x.key))
        )  # fmt: skip
    return max(n - start + 1, 0)


def xlsx_bytes(findings: Iterable[Finding], *, title: str = "Сверка с реестром") -> bytes:
    """The findings as an XLSX workbook (one sheet, write-only: a constant memory per row)."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    for i, width in enumerate(_WIDTHS):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    ws.freeze_panes = "A2"
    ws.append(XLSX_HEADERS)
    for n, x in enumerate(findings, start=1):
        money = WriteOnlyCell(ws, value=x.money)
        money.number_format = "#,##0.00"
        ws.append(
            [money if v is money else safe_cell(v) for v in (
                n, KIND_NAMES.get(x.kind, x.kind), money, x.house_id or "", x.premise_id or "",
                x.account or "", x.where, x.address, round(x.score), x.detail, x.key,
                "да" if x.priority else "")]
        )  # fmt: skip
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
