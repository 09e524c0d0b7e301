"""Register export files in the two shipped layouts, written the way the field writes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

PIRAMIDA_TITLE = (
    "Отчёт: Показания счётчиков электроэнергии на дату;;;;;;;",
    "Объект: ЖК «Северный», д. 12, ТСЖ «Северный-12»;;;;;;;",
    ";;;;;;;",
)
PIRAMIDA_HEADER = "№;Заводской номер;Тип ПУ;Лицевой счёт;Дата;Т1, кВт*ч;Т2, кВт*ч;Сумма, кВт*ч"

# (serial, account, date text, T1 text, T2 text) — values as the file spells them
PiramidaRow = tuple[str, str, str, str, str]


def comma(x: float) -> str:
    return f"{x:.2f}".replace(".", ",")


def piramida_csv(
    path: Path,
    rows: Sequence[PiramidaRow],
    *,
    encoding: str = "windows-1251",
    total: bool = True,
    newline: str = "\r\n",
) -> Path:
    """A Пирамида-style semicolon CSV: title lines, header, numbered rows, an 'Итого' line."""
    lines = [*PIRAMIDA_TITLE, PIRAMIDA_HEADER]
    for n, (serial, account, day, t1, t2) in enumerate(rows, start=1):
        lines.append(f"{n};{serial};Меркурий 200.02;{account};{day};{t1};{t2};")
    if total:
        lines.append(f"Итого;{len(rows)} ПУ;;;;;;")
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


CONTRACTOR_TITLE = ("Ведомость снятия показаний ИПУ", "Подрядчик: ООО «Водоучёт»")
CONTRACTOR_HEADER = (
    "Лицевой счёт",
    "Адрес",
    "Кв.",
    "Услуга",
    "Заводской № счётчика",
    "Дата снятия",
    "Показание",
    "Ед. изм.",
)

# (account, service, serial, date (date or text), value (number or text), unit)
ContractorRow = tuple[str, str, str, date | str, float | str, str]


def contractor_xlsx(path: Path, rows: Sequence[ContractorRow]) -> Path:
    """The contractor's workbook: two title rows, the header, one reading per row."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Показания"
    for line in CONTRACTOR_TITLE:
        ws.append([line])
    ws.append(list(CONTRACTOR_HEADER))
    for n, (account, service, serial, day, value, unit) in enumerate(rows, start=1):
        cell_day = datetime(day.year, day.month, day.day) if isinstance(day, date) else day
        ws.append([account, "ул. Ленина, 5", n, service, serial, cell_day, value, unit])
    book.save(path)
    return path


def contractor_csv(
    path: Path, rows: Sequence[ContractorRow], *, encoding: str = "utf-8", delimiter: str = ";"
) -> Path:
    """The same table saved as CSV (dates dd.mm.yyyy, decimal commas)."""
    lines = [*CONTRACTOR_TITLE, delimiter.join(CONTRACTOR_HEADER)]
    for n, (account, service, serial, day, value, unit) in enumerate(rows, start=1):
        day_text = day.strftime("%d.%m.%Y") if isinstance(day, date) else day
        value_text = comma(value) if isinstance(value, float) else str(value)
        if delimiter == ",":
            value_text = f'"{value_text}"'
        cells = [account, '"ул. Ленина, 5"', str(n), service, serial, day_text, value_text, unit]
        lines.append(delimiter.join(cells))
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path
