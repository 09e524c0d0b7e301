"""Exact money and rates: kopecks and basis points as Python integers, half-up rounding."""

from __future__ import annotations

import re

from core.ledger.errors import LedgerError

_MONEY = re.compile(r"^(-?)(\d+)\.(\d{2})$")
_DIGITS = re.compile(r"^[0-9]+$")
_RATE = re.compile(r"^(\d+)(?:\.(\d{1,2}))?$")


def parse_money(value: object, where: str) -> int:
    """``"1234.50"`` → 123450 kopecks; exactly two decimals, as a JSON string."""
    match = _MONEY.match(value) if isinstance(value, str) else None
    if match is None:
        raise LedgerError(f'{where}: {value!r} is not money with exactly two decimals ("12.34")')
    kopecks = int(match.group(2)) * 100 + int(match.group(3))
    return -kopecks if match.group(1) else kopecks


def format_money(kopecks: int) -> str:
    sign = "-" if kopecks < 0 else ""
    whole, part = divmod(abs(kopecks), 100)
    return f"{sign}{whole}.{part:02d}"


def parse_rate(value: object, where: str) -> int:
    """A percent (``"17.00"``, ``"9.5"``) → basis points (1700, 950)."""
    match = _RATE.match(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise LedgerError(f"{where}: {value!r} is not a percent with at most two decimals")
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def format_rate(basis_points: int) -> str:
    whole, part = divmod(basis_points, 100)
    return f"{whole}.{part:02d}"


def half_up(num: int, den: int) -> int:
    """round(num / den), halves away from zero (den > 0), exact on integers."""
    q = (2 * abs(num) + den) // (2 * den)
    return -q if num < 0 else q


def parse_typed_rubles(value: str, where: str) -> int:
    """Rubles as a person types them (``1500``, ``1 500,5``, ``1500.50``) → kopecks: spaces
    (also non-breaking) dropped, a comma or a dot before at most two decimals; not below
    zero, below 10¹⁵ ₽. An empty text is an error too (the caller decides what nothing means)."""
    text = "".join(value.split()).replace(",", ".")
    whole, _, part = text.partition(".")
    if whole.startswith("-") and _DIGITS.match(whole[1:] + part):
        raise LedgerError(f"{where}: {value!r} is below zero")
    if not _DIGITS.match(whole) or (part and not _DIGITS.match(part)):
        raise LedgerError(f"{where}: {value!r} is not rubles (1500, 1 500,50)")
    if len(part) > 2:
        raise LedgerError(f"{where}: {value!r} has more than two decimals")
    if len(whole.lstrip("0")) > 15:
        raise LedgerError(f"{where}: {value[:40]!r} is too large")
    return int(whole) * 100 + int(part.ljust(2, "0"))
