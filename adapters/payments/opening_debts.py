"""Reads opening debts (входящее сальдо by period, as the previous billing system hands them
over) from a CSV with a header line: account, period, amount — a bad row is reported with its
line and never stops the rows around it.

- Columns by name, any order: ``account`` / ``лицевой счёт`` / ``лс``, ``period`` /
  ``период``, ``amount`` / ``сумма`` / ``долг``; more columns are ignored. The separator is
  the header's: ``;``, a tab or ``,`` (quote amounts with a decimal comma then).
- Period: ``YYYY-MM``, ``MM.YYYY``, ``MMYYYY`` or ``MMYY``, from 2000-01 to ``until``.
- Amount: rubles as typed (``1500``, ``1 500,50``, ``-200.00``); negative is an overpayment
  carried over (a credit, spec/ledger-case.md), zero clears the period's debt.
- UTF-8 (with or without BOM) or Windows-1251; NUL bytes and control characters are errors
  of their row.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date

from adapters.payments.register import BadCell, RowError, decode, parse_period

MAX_FIELD = 200
_AMOUNT = re.compile(r"^(-?)(\d{1,15})(?:[.,](\d{1,2}))?$")
_NAMES = {
    "account": ("account", "лицевой счёт", "лицевой счет", "лс", "л/с"),
    "period": ("period", "период"),
    "amount": ("amount", "сумма", "долг"),
}
FIRST_PERIOD = date(2000, 1, 1)


@dataclass(frozen=True, slots=True)
class OpeningDebt:
    account: str
    period: date  # the 1st of its month
    amount: int  # kopecks; negative: a credit carried over
    line: int


@dataclass(slots=True)
class OpeningFile:
    rows: list[OpeningDebt] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def parse_amount(text: str) -> int:
    """Rubles as typed → kopecks (may be negative or zero)."""
    match = _AMOUNT.match(text.replace(" ", "").replace("\u00a0", ""))
    if match is None:
        raise BadCell("malformed_amount", f"amount {text!r} is not rubles (1500, -1 500,50)")
    kopecks = int(match.group(2)) * 100 + int((match.group(3) or "0").ljust(2, "0"))
    return -kopecks if match.group(1) else kopecks


def _columns(header: list[str]) -> dict[str, int]:
    names = {h.strip().casefold(): i for i, h in enumerate(header)}
    found = {}
    for column, spellings in _NAMES.items():
        at = [names[s] for s in spellings if s in names]
        if not at:
            raise BadCell(
                "missing_column",
                f"the header has no {column} column ({', '.join(spellings)}); "
                f"it has {', '.join(repr(h) for h in header) or 'nothing'}",
            )
        found[column] = at[0]
    return found


def _cell(cells: list[str], at: int, name: str) -> str:
    if at >= len(cells):
        raise BadCell("missing_field", f"{name}: the row has {len(cells)} columns, not {at + 1}")
    value = cells[at].strip()
    if not value:
        raise BadCell("missing_field", f"{name}: empty")
    if len(value) > MAX_FIELD or any(ord(c) < 32 for c in value):
        raise BadCell("invalid_field", f"{name}: control characters or over {MAX_FIELD} chars")
    return value


def read_opening_debts(data: bytes, until: date) -> OpeningFile:
    """Every row as an opening debt or a located error (1-based lines). ``until``: the latest
    period allowed (the current month: nobody owes for a month to come). An account and
    period given twice is an error of the second row."""
    out = OpeningFile()
    text = decode(data, "auto")
    lines = text.splitlines()
    header_at = next((i for i, raw in enumerate(lines) if raw.strip()), None)
    if header_at is None:
        out.errors.append(RowError(1, "empty_file", "no header line (account;period;amount)", ""))
        return out
    header = lines[header_at].replace("\x00", "")
    delimiter = next((d for d in ";\t," if d in header), ";")
    try:
        columns = _columns(next(csv.reader([header], delimiter=delimiter)))
    except BadCell as bad:
        out.errors.append(RowError(header_at + 1, bad.reason, bad.detail, header[:1000]))
        return out
    seen: dict[tuple[str, date], int] = {}
    for number in range(header_at + 2, len(lines) + 1):
        raw = lines[number - 1]
        if not raw.strip():
            continue
        try:
            if "\x00" in raw:
                raise BadCell("invalid_field", "a NUL byte in the row")
            cells = next(csv.reader(io.StringIO(raw), delimiter=delimiter), [])
            account = _cell(cells, columns["account"], "account")
            period = parse_period(_cell(cells, columns["period"], "period")) or FIRST_PERIOD
            if not FIRST_PERIOD <= period <= until:
                raise BadCell(
                    "period_out_of_range",
                    f"period {period:%Y-%m} is not between {FIRST_PERIOD:%Y-%m} and {until:%Y-%m}",
                )
            amount = parse_amount(_cell(cells, columns["amount"], "amount"))
            first = seen.setdefault((account, period), number)
            if first != number:
                raise BadCell(
                    "duplicate",
                    f"account {account}, period {period:%Y-%m} is already given on line {first}",
                )
            out.rows.append(OpeningDebt(account, period, amount, number))
        except (BadCell, csv.Error) as exc:
            reason = exc.reason if isinstance(exc, BadCell) else "malformed_row"
            detail = exc.detail if isinstance(exc, BadCell) else str(exc)
            out.errors.append(RowError(number, reason, detail, raw[:1000]))
    return out
