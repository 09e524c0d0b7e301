"""Reads a bank payment register (CSV/TXT) through a mapping into payment rows and located
errors: a bad row is reported with its line and never stops the rows around it."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from adapters.payments.mapping import ColumnRef, PaymentMapping
from core.ledger.model import CHARGES, PENALTY

_AMOUNT = re.compile(r"^(\d+)(?:[.,](\d{1,2}))?$")
_PERIODS = (
    (re.compile(r"^(\d{4})-(\d{2})$"), 1, 2),
    (re.compile(r"^(\d{2})\.(\d{4})$"), 2, 1),
    (re.compile(r"^(\d{2})(\d{4})$"), 2, 1),
    (re.compile(r"^(\d{2})(\d{2})$"), 2, 1),  # MMYY
)
MAX_FIELD = 200


@dataclass(frozen=True, slots=True)
class PaymentRow:
    id: str
    account: str
    day: date
    amount: int  # kopecks, > 0
    period: date | None  # the 1st of the named month
    to: str
    line: int


@dataclass(frozen=True, slots=True)
class RowError:
    line: int
    reason: str
    detail: str
    raw: str


@dataclass(slots=True)
class Register:
    rows: list[PaymentRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    summary: tuple[int, int] | None = None  # (count, kopecks) the bank declared


class _Bad(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


#: what the cell parsers (:func:`parse_period`) raise: ``reason`` (a code) and ``detail``
BadCell = _Bad


def decode(data: bytes, encoding: str) -> str:
    if encoding != "auto":
        return data.decode(encoding, errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="replace")


def parse_amount(text: str) -> int:
    clean = text.replace(" ", "").replace("\u00a0", "")
    match = _AMOUNT.match(clean)
    if match is None:
        raise _Bad("malformed_amount", f"amount {text!r} is not a sum of rubles")
    kopecks = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    if kopecks <= 0:
        raise _Bad("amount_not_positive", f"amount {text!r} is not above zero")
    return kopecks


def parse_period(text: str) -> date | None:
    if not text:
        return None
    for pattern, year_group, month_group in _PERIODS:
        match = pattern.match(text)
        if match:
            year = int(match.group(year_group))
            year += 2000 if year < 100 else 0
            month = int(match.group(month_group))
            if 1 <= month <= 12:
                return date(year, month, 1)
    raise _Bad("malformed_period", f"period {text!r} is not a month (MMYYYY, MM.YYYY, YYYY-MM)")


def _parse_date(text: str, formats: list[str]) -> date:
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise _Bad("malformed_date", f"date {text!r} is not a date ({', '.join(formats)})")


class _Reader:
    def __init__(self, mapping: PaymentMapping, header: list[str] | None) -> None:
        self.mapping = mapping
        self.names = {h.strip().casefold(): i for i, h in enumerate(header or [])}

    def index(self, ref: ColumnRef) -> int:
        if isinstance(ref, int):
            return ref - 1
        try:
            return self.names[ref.strip().casefold()]
        except KeyError:
            raise _Bad("missing_column", f"no column named {ref!r} in the header") from None

    def cell(self, cells: list[str], ref: ColumnRef | None, name: str) -> str:
        if ref is None:
            return ""
        i = self.index(ref)
        if i >= len(cells):
            raise _Bad("missing_field", f"{name}: the row has {len(cells)} columns, not {i + 1}")
        value = cells[i].strip()
        if len(value) > MAX_FIELD or any(ord(c) < 32 for c in value):
            raise _Bad("invalid_field", f"{name}: control characters or over {MAX_FIELD} chars")
        return value

    def row(self, cells: list[str], line: int) -> PaymentRow:
        m, c = self.mapping, self.mapping.columns
        parts = [self.cell(cells, ref, "id") for ref in c.id]
        if not all(parts):
            raise _Bad("missing_field", "id: empty")
        account = self.cell(cells, c.account, "account")
        if not account:
            raise _Bad("missing_field", "account: empty")
        to = self.cell(cells, c.to, "to") or CHARGES
        if to not in (CHARGES, PENALTY):
            raise _Bad("malformed_target", f"to {to!r} is neither 'charges' nor 'penalty'")
        return PaymentRow(
            id=m.id_prefix + "/".join(parts),
            account=account,
            day=_parse_date(self.cell(cells, c.date, "date"), m.date_formats),
            amount=parse_amount(self.cell(cells, c.amount, "amount")),
            period=parse_period(self.cell(cells, c.period, "period")),
            to=to,
            line=line,
        )


def read_register(data: bytes, mapping: PaymentMapping) -> Register:
    """Every row of the register as a payment or a located error (1-based line numbers)."""
    out = Register()
    text = decode(data, mapping.encoding)
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    lines = text.splitlines()
    reader: _Reader | None = None if mapping.header else _Reader(mapping, None)
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        cells = next(csv.reader(io.StringIO(raw), delimiter=mapping.delimiter), [])
        if reader is None:
            reader = _Reader(mapping, cells)
            continue
        prefix = mapping.summary_prefix
        try:
            if prefix and raw.startswith(prefix):
                if mapping.summary is not None:
                    cells[0] = cells[0][len(prefix) :]
                    count = reader.cell(cells, mapping.summary.count, "summary count")
                    amount = reader.cell(cells, mapping.summary.amount, "summary amount")
                    if not count.isdigit():
                        raise _Bad("malformed_summary", f"summary count {count!r}")
                    out.summary = (int(count), parse_amount(amount))
                continue
            out.rows.append(reader.row(cells, number))
        except _Bad as bad:
            out.errors.append(RowError(number, bad.reason, bad.detail, raw[:1000]))
    return out
